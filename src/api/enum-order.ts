// The order in which AWS quotes enum values, and lists failing members, in its validation messages.
// AWS's validators hold enums in Java hash sets and check members in its own declaration order, so
// neither is always the model's; these lists are recorded from AWS. Anything without an entry follows
// the model.

/** Enum shapes whose quoted order differs from the model's. */
export const awsEnumOrder: Readonly<Record<string, readonly string[]>> = {
  EventSourcePosition: ['LATEST', 'AT_TIMESTAMP', 'TRIM_HORIZON'],
  RecursiveLoop: ['Terminate', 'Allow'],
  // Every identifier AWS knows, as quoted for a single runtime member (e.g. ListLayers' CompatibleRuntime).
  Runtime: [
    'ruby3.5', 'ruby2.6', 'dotnetcore1.0', 'python3.7', 'nodejs8.10', 'nasa', 'ruby2.7', 'python2.7-greengrass',
    'dotnetcore2.0', 'python3.8', 'java21', 'dotnet6', 'dotnetcore2.1', 'python3.9', 'java11', 'nodejs6.10',
    'provided', 'dotnetcore3.1', 'dotnet8', 'java25', 'java17', 'nodejs', 'nodejs4.3', 'java8.al2', 'go1.x',
    'dotnet10', 'nodejs20.x', 'go1.9', 'byol', 'nodejs10.x', 'provided.al2023', 'nodejs22.x', 'python3.10',
    'java8', 'nodejs12.x', 'python3.11', 'nodejs24.x', 'nodejs8.x', 'python3.12', 'nodejs14.x', 'nodejs8.9',
    'nodejs26.x', 'python3.13', 'python3.14', 'nodejs16.x', 'python3.15', 'provided.al2', 'nodejs4.3-edge',
    'nodejs18.x', 'ruby3.2', 'python3.4', 'ruby3.3', 'ruby3.4', 'ruby2.5', 'python3.6', 'python2.7',
  ],
};

/**
 * The runtimes a function may be created or updated with, and that a layer may declare, in the order AWS
 * quotes them for `runtime` on CreateFunction/UpdateFunctionConfiguration and for `compatibleRuntimes`.
 */
export const creatableRuntimes: readonly string[] = [
  'nodejs20.x', 'python3.14', 'provided.al2023', 'python3.12', 'python3.13', 'nodejs24.x', 'nodejs22.x', 'java25',
  'python3.10', 'python3.11', 'java21', 'ruby3.3', 'ruby3.4', 'ruby3.2', 'python3.8', 'python3.9', 'java17',
  'nodejs16.x', 'dotnet10', 'dotnet8', 'java11', 'dotnet6', 'nodejs18.x', 'provided.al2', 'java8.al2',
];

/** Structures whose members AWS validates in another order than the model lists them. */
export const awsMemberOrder: Readonly<Record<string, readonly string[]>> = {
  PublishLayerVersionRequest: ['LayerName', 'Description', 'Content', 'CompatibleRuntimes', 'LicenseInfo', 'CompatibleArchitectures'],
};

/** The enum values of `shapeName` as AWS quotes them. */
export function quotedEnum(shapeName: string, modelEnum: readonly string[]): readonly string[] {
  return awsEnumOrder[shapeName] ?? modelEnum;
}
