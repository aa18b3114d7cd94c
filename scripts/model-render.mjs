// Shared pieces of the model scripts: stripping AWS's documentation strings from a model, and the
// compact shape table the protocol layers validate and (de)serialise with.

/** A copy of a model node without `documentation` / `documentationUrl` strings. */
export function strip(node) {
  if (Array.isArray(node)) return node.map(strip);
  if (node && typeof node === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(node)) {
      if (k === 'documentation' || k === 'documentationUrl') continue;
      out[k] = strip(v);
    }
    return out;
  }
  return node;
}

/** The shapes of a model as `ShapeSpec`s (src/api/model-types.ts). */
export function renderShapes(model) {
  const shapes = {};
  for (const [name, s] of Object.entries(model.shapes)) {
    const out = { type: s.type };
    for (const k of ['min', 'max', 'pattern', 'enum', 'required', 'payload', 'sensitive', 'streaming', 'eventstream', 'event', 'exception']) {
      if (s[k] !== undefined) out[k] = s[k];
    }
    if (s.error) out.error = { httpStatusCode: s.error.httpStatusCode, senderFault: s.error.senderFault === true };
    if (s.fault) out.fault = true;
    if (s.member) out.member = s.member.shape;
    if (s.key) out.key = s.key.shape;
    if (s.value) out.value = s.value.shape;
    if (s.members) {
      out.members = {};
      for (const [m, spec] of Object.entries(s.members)) {
        const mm = { shape: spec.shape };
        if (spec.location) mm.location = spec.location;
        if (spec.locationName) mm.locationName = spec.locationName;
        out.members[m] = mm;
      }
    }
    shapes[name] = out;
  }
  return shapes;
}

/** TypeScript declarations for every shape, and an OperationTypes map from operation to input/output. */
export function renderTypes(model, header, ops) {
  const ref = (shapeName) => (model.shapes[shapeName].type === 'structure' ? shapeName : `T${shapeName}`);
  const tsType = (shapeName) => {
    const s = model.shapes[shapeName];
    switch (s.type) {
      case 'string':
        return s.enum ? s.enum.map((e) => JSON.stringify(e)).join(' | ') : 'string';
      case 'integer': case 'long': case 'double': case 'float':
        return 'number';
      case 'boolean':
        return 'boolean';
      case 'blob':
        return 'Buffer';
      case 'timestamp':
        return 'Date';
      case 'list':
        return `${ref(s.member.shape)}[]`;
      case 'map':
        return `Record<string, ${ref(s.value.shape)}>`;
      default:
        throw new Error(`unknown shape type ${s.type}`);
    }
  };
  let out = `${header}/* eslint-disable */\n`;
  for (const [name, s] of Object.entries(model.shapes)) {
    if (s.type === 'structure') {
      const required = new Set(s.required ?? []);
      const lines = Object.entries(s.members ?? {}).map(([m, spec]) => `  ${m}${required.has(m) ? '' : '?'}: ${ref(spec.shape)};`);
      out += `export interface ${name} {\n${lines.join('\n')}${lines.length ? '\n' : ''}}\n`;
    } else {
      out += `export type T${name} = ${tsType(name)};\n`;
    }
  }
  out += `\nexport interface OperationTypes {\n`;
  for (const o of ops) out += `  ${o.name}: { input: ${o.input ?? 'Record<string, never>'}; output: ${o.output ?? 'Record<string, never>'} };\n`;
  out += `}\n`;
  return out;
}
