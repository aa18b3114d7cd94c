// The shape of the generated model tables (src/api/generated/model.ts).

export type ShapeType =
  | 'structure' | 'string' | 'list' | 'map' | 'integer' | 'long' | 'double' | 'float'
  | 'boolean' | 'blob' | 'timestamp';

export type MemberLocation = 'uri' | 'querystring' | 'header' | 'statusCode';

export interface MemberSpec {
  readonly shape: string;
  readonly location?: MemberLocation;
  readonly locationName?: string;
}

export interface ShapeSpec {
  readonly type: ShapeType;
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly enum?: readonly string[];
  readonly required?: readonly string[];
  readonly payload?: string;
  readonly sensitive?: boolean;
  readonly streaming?: boolean;
  readonly eventstream?: boolean;
  readonly event?: boolean;
  readonly exception?: boolean;
  readonly fault?: boolean;
  readonly error?: { readonly httpStatusCode: number; readonly senderFault: boolean };
  readonly member?: string;
  readonly key?: string;
  readonly value?: string;
  readonly members?: Readonly<Record<string, MemberSpec>>;
}

export interface OperationSpec<N extends string = string> {
  readonly name: N;
  readonly method: string;
  readonly path: string;
  readonly staticQuery: Readonly<Record<string, string>>;
  readonly responseCode: number;
  readonly input: string | null;
  readonly output: string | null;
  readonly errors: readonly string[];
  readonly deprecated?: boolean;
}
