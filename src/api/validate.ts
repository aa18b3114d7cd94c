// Validates a deserialised input against the model's constraints and answers AWS's ValidationException
// text: "N validation error(s) detected: Value 'x' at 'memberPath' failed to satisfy constraint: ...".
// Members are checked in model order; the patterns are Java regexes that must match the whole value.
import { shapes } from './generated/model.js';
import type { ShapeSpec } from './model-types.js';
import { errors } from '../shared/errors.js';
import { awsMemberOrder, creatableRuntimes, quotedEnum } from './enum-order.js';

const patternCache = new Map<string, RegExp>();

/**
 * Members whose enum the service checks itself with its own wording (src/control/runtimes.ts), not the
 * framework: AWS answers an unknown function runtime with InvalidParameterValueException listing only
 * creatable runtimes. Elsewhere (ListLayers' CompatibleRuntime) the framework checks the Runtime enum.
 */
const serviceCheckedPaths = new Set(['runtime']);

function compiledPattern(pattern: string): RegExp {
  let re = patternCache.get(pattern);
  if (!re) {
    re = new RegExp(`^(?:${pattern})$`, 'su');
    patternCache.set(pattern, re);
  }
  return re;
}

/** AWS names members in camelCase in these messages: the first letter lower-cased, the rest as is. */
export function wireMemberName(member: string): string {
  return member.charAt(0).toLowerCase() + member.slice(1);
}

/** Java's rendering of a number: doubles always carry a fraction (1.0), integers never. */
function renderNumber(n: number, type: string | undefined): string {
  if ((type === 'double' || type === 'float') && Number.isInteger(n)) return `${n}.0`;
  return String(n);
}

/** Java's rendering of a value inside a constraint message (List.toString, Map.toString). */
export function renderValue(value: unknown, shapeName?: string): string {
  const spec = shapeName ? shapes[shapeName] : undefined;
  if (value === null || value === undefined) return 'null';
  if (Buffer.isBuffer(value)) return 'java.nio.HeapByteBuffer[pos=0 lim=' + value.length + ' cap=' + value.length + ']';
  if (typeof value === 'number') return renderNumber(value, spec?.type);
  if (Array.isArray(value)) return `[${value.map((v) => renderValue(v, spec?.member)).join(', ')}]`;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const inner = spec?.type === 'map' ? spec.value : undefined;
    return `{${Object.entries(value as Record<string, unknown>).map(([k, v]) => `${k}=${renderValue(v, inner)}`).join(', ')}}`;
  }
  return String(value);
}

function shape(name: string): ShapeSpec {
  const s = shapes[name];
  if (!s) throw new Error(`model has no shape ${name}`);
  return s;
}

function enumFailure(shapeName: string, values: readonly string[]): string {
  return `Member must satisfy enum value set: [${quotedEnum(shapeName, values).join(', ')}]`;
}

/** Every constraint a scalar shape declares, in the order AWS lists them. */
function allConstraints(spec: ShapeSpec, shapeName: string): string[] {
  const out: string[] = [];
  if (spec.enum) out.push(enumFailure(shapeName, spec.enum));
  const unit = spec.type === 'string' || spec.type === 'blob' ? 'length' : 'value';
  const bound = (n: number) => (unit === 'value' ? renderNumber(n, spec.type) : String(n));
  if (spec.max !== undefined) out.push(`Member must have ${unit} less than or equal to ${bound(spec.max)}`);
  if (spec.min !== undefined) out.push(`Member must have ${unit} greater than or equal to ${bound(spec.min)}`);
  if (spec.pattern !== undefined) out.push(`Member must satisfy regular expression pattern: ${spec.pattern}`);
  return out;
}

/** Constraint failures of one scalar value, as the text after "failed to satisfy constraint: ". */
function scalarFailures(spec: ShapeSpec, value: unknown, shapeName: string, path = ''): string[] {
  const out: string[] = [];
  if (spec.type === 'string' && typeof value === 'string') {
    if (spec.enum && !(shapeName === 'Runtime' && serviceCheckedPaths.has(path)) && !spec.enum.includes(value)) {
      out.push(enumFailure(shapeName, spec.enum));
    }
    // Lengths count UTF-16 code units as Java does.
    if (spec.max !== undefined && value.length > spec.max) out.push(`Member must have length less than or equal to ${spec.max}`);
    if (spec.min !== undefined && value.length < spec.min) out.push(`Member must have length greater than or equal to ${spec.min}`);
    if (spec.pattern !== undefined && !compiledPattern(spec.pattern).test(value)) {
      out.push(`Member must satisfy regular expression pattern: ${spec.pattern}`);
    }
  } else if ((spec.type === 'integer' || spec.type === 'long' || spec.type === 'double' || spec.type === 'float') && typeof value === 'number') {
    if (spec.max !== undefined && value > spec.max) out.push(`Member must have value less than or equal to ${renderNumber(spec.max, spec.type)}`);
    if (spec.min !== undefined && value < spec.min) out.push(`Member must have value greater than or equal to ${renderNumber(spec.min, spec.type)}`);
  } else if (spec.type === 'blob' && Buffer.isBuffer(value)) {
    if (spec.max !== undefined && value.length > spec.max) out.push(`Member must have length less than or equal to ${spec.max}`);
    if (spec.min !== undefined && value.length < spec.min) out.push(`Member must have length greater than or equal to ${spec.min}`);
  }
  return out;
}

function collect(shapeName: string, value: unknown, path: string, out: string[]): void {
  const spec = shape(shapeName);
  const at = (msg: string) => {
    if (value === null || value === undefined) return `Value null at '${path}' failed to satisfy constraint: ${msg}`;
    // AWS quotes no value at all for a sensitive member.
    if (spec.sensitive) return `Value at '${path}' failed to satisfy constraint: ${msg}`;
    return `Value '${renderValue(value, shapeName)}' at '${path}' failed to satisfy constraint: ${msg}`;
  };
  switch (spec.type) {
    case 'structure': {
      if (value === null || typeof value !== 'object') return;
      const obj = value as Record<string, unknown>;
      const members = spec.members ?? {};
      for (const member of awsMemberOrder[shapeName] ?? Object.keys(members)) {
        const m = members[member];
        if (!m) continue;
        const v = obj[member];
        const memberPath = path ? `${path}.${wireMemberName(member)}` : wireMemberName(member);
        if ((v === undefined || v === null) && spec.required?.includes(member)) {
          out.push(`Value null at '${memberPath}' failed to satisfy constraint: Member must not be null`);
          continue;
        }
        if (v === undefined || v === null) continue;
        collect(m.shape, v, memberPath, out);
      }
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) return;
      if (spec.max !== undefined && value.length > spec.max) out.push(at(`Member must have length less than or equal to ${spec.max}`));
      if (spec.min !== undefined && value.length < spec.min) out.push(at(`Member must have length greater than or equal to ${spec.min}`));
      const memberSpec = shape(spec.member!);
      if (memberSpec.type === 'structure') {
        value.forEach((item, i) => collect(spec.member!, item, `${path}.${i + 1}.member`, out));
      } else if (spec.member === 'Runtime') {
        // A list of runtimes (a layer's CompatibleRuntimes) is checked by the service, which quotes the
        // creatable runtimes directly rather than the element's constraints.
        if (value.some((item) => typeof item !== 'string' || !memberSpec.enum?.includes(item))) {
          out.push(at(`Member must satisfy enum value set: [${creatableRuntimes.join(', ')}]`));
        }
      } else {
        // AWS names every constraint of the element shape, not only the broken one, and adds "must not
        // be null" for enum elements only (recorded: architectures has it, vpcConfig.subnetIds not).
        if (value.some((item) => item === null || scalarFailures(memberSpec, item, spec.member!).length > 0)) {
          const constraints = allConstraints(memberSpec, spec.member!);
          out.push(at(`Member must satisfy constraint: [${[...constraints, ...(memberSpec.enum ? ['Member must not be null'] : [])].join(', ')}]`));
        }
      }
      return;
    }
    case 'map': {
      if (value === null || typeof value !== 'object') return;
      const entries = Object.entries(value as Record<string, unknown>);
      if (spec.max !== undefined && entries.length > spec.max) out.push(at(`Member must have length less than or equal to ${spec.max}`));
      const keySpec = shape(spec.key!);
      const valueSpec = shape(spec.value!);
      let badKey = false;
      let badValue = false;
      for (const [k, v] of entries) {
        if (scalarFailures(keySpec, k, spec.key!).length) badKey = true;
        if (valueSpec.type === 'structure' || valueSpec.type === 'list' || valueSpec.type === 'map') collect(spec.value!, v, `${path}.${k}`, out);
        else if (v === null || scalarFailures(valueSpec, v, spec.value!).length) badValue = true;
      }
      // As for lists, AWS names every constraint of the key or value shape, not only the broken one; a
      // key can never be null, so its list has no "Member must not be null".
      if (badKey) out.push(at(`Map keys must satisfy constraint: [${allConstraints(keySpec, spec.key!).join(', ')}]`));
      if (badValue) out.push(at(`Map value must satisfy constraint: [${[...allConstraints(valueSpec, spec.value!), 'Member must not be null'].join(', ')}]`));
      return;
    }
    default:
      for (const f of scalarFailures(spec, value, shapeName, path)) out.push(at(f));
  }
}

/** Returns the AWS text of every constraint failure of `input` against `shapeName`, in model order. */
export function constraintFailures(shapeName: string, input: unknown): string[] {
  const out: string[] = [];
  collect(shapeName, input, '', out);
  return out;
}

export function validationMessage(failures: readonly string[]): string {
  const n = failures.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${failures.join('; ')}`;
}

/** Throws AWS's ValidationException when `input` breaks any constraint of its shape. */
export function validateInput(shapeName: string, input: unknown): void {
  const failures = constraintFailures(shapeName, input);
  if (failures.length) throw errors.validation(validationMessage(failures));
}
