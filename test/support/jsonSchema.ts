// A JSON Schema check for what /swagger/json contains (the draft-07 subset TypeBox and
// Elysia emit), with `$ref`s resolved in the document's own components. No validator
// package is a dependency; a keyword this does not know fails the check instead of being
// skipped, so a gap here can never pass an example silently.

type Schema = Record<string, unknown>;

const ANNOTATIONS = new Set(["description", "title", "examples", "example", "default", "deprecated", "readOnly", "writeOnly", "$id", "$schema", "nullable"]);

/** Formats the API's schemas use; `integer`, `numeric` and `boolean` are Elysia's query-string forms. */
const FORMATS: Record<string, (s: string) => boolean> = {
  "date-time": (s) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(Date.parse(s)),
  date: (s) => /^\d{4}-\d\d-\d\d$/.test(s),
  email: (s) => /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s),
  uri: (s) => URL.canParse(s),
  integer: (s) => /^-?\d+$/.test(s),
  numeric: (s) => s.trim() !== "" && !Number.isNaN(Number(s)),
  boolean: (s) => s === "true" || s === "false",
};

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

/** The problems of `value` against `schema`, each naming where; empty when it conforms. */
export function validate(schema: Schema, value: unknown, root: unknown, at = "$"): string[] {
  const errors: string[] = [];
  const fail = (msg: string) => errors.push(`${at}: ${msg}`);
  for (const [key, rule] of Object.entries(schema)) {
    if (ANNOTATIONS.has(key) || key.startsWith("x-")) continue;
    switch (key) {
      case "$ref": {
        const target = (rule as string).replace(/^#\//, "").split("/").reduce<any>((node, part) => node?.[part], root);
        if (!target) fail(`unresolved $ref ${rule}`);
        else errors.push(...validate(target, value, root, at));
        break;
      }
      case "type": {
        const types = Array.isArray(rule) ? rule : [rule];
        const actual = typeOf(value);
        if (!types.includes(actual) && !(actual === "integer" && types.includes("number"))) fail(`is ${actual}, expected ${types.join(" or ")}`);
        break;
      }
      case "enum":
        if (!(rule as unknown[]).some((v) => Bun.deepEquals(v, value))) fail(`${JSON.stringify(value)} is not one of ${JSON.stringify(rule)}`);
        break;
      case "const":
        if (!Bun.deepEquals(rule, value)) fail(`is not ${JSON.stringify(rule)}`);
        break;
      case "anyOf":
      case "oneOf": {
        const matching = (rule as Schema[]).filter((s) => validate(s, value, root, at).length === 0).length;
        if (matching === 0 || (key === "oneOf" && matching > 1)) fail(`matches ${matching} of the ${key} alternatives`);
        break;
      }
      case "allOf":
        for (const s of rule as Schema[]) errors.push(...validate(s, value, root, at));
        break;
      case "format":
        if (typeof value === "string") {
          const check = FORMATS[rule as string];
          if (!check) fail(`unknown format ${rule}`);
          else if (!check(value)) fail(`${JSON.stringify(value)} is not a ${rule}`);
        }
        break;
      case "pattern":
        if (typeof value === "string" && !new RegExp(rule as string, "u").test(value)) fail(`${JSON.stringify(value)} does not match ${rule}`);
        break;
      case "minLength":
      case "maxLength":
        if (typeof value === "string") {
          const n = [...value].length;
          if (key === "minLength" ? n < (rule as number) : n > (rule as number)) fail(`length ${n} breaks ${key} ${rule}`);
        }
        break;
      case "minimum":
      case "maximum":
      case "exclusiveMinimum":
      case "exclusiveMaximum":
        if (typeof value === "number") {
          const r = rule as number;
          const ok = key === "minimum" ? value >= r : key === "maximum" ? value <= r : key === "exclusiveMinimum" ? value > r : value < r;
          if (!ok) fail(`${value} breaks ${key} ${r}`);
        }
        break;
      case "multipleOf":
        if (typeof value === "number" && value % (rule as number) !== 0) fail(`${value} is not a multiple of ${rule}`);
        break;
      case "items":
        if (Array.isArray(value)) value.forEach((v, i) => errors.push(...validate(rule as Schema, v, root, `${at}[${i}]`)));
        break;
      case "minItems":
      case "maxItems":
        if (Array.isArray(value) && (key === "minItems" ? value.length < (rule as number) : value.length > (rule as number))) fail(`${value.length} items break ${key} ${rule}`);
        break;
      case "uniqueItems":
        if (rule && Array.isArray(value) && new Set(value.map((v) => JSON.stringify(v))).size !== value.length) fail("has duplicate items");
        break;
      case "required":
        if (typeOf(value) === "object") for (const name of rule as string[]) if (!(name in (value as object))) fail(`lacks ${name}`);
        break;
      case "properties":
        if (typeOf(value) === "object")
          for (const [name, s] of Object.entries(rule as Record<string, Schema>))
            if (name in (value as object)) errors.push(...validate(s, (value as Record<string, unknown>)[name], root, `${at}.${name}`));
        break;
      case "patternProperties":
        if (typeOf(value) === "object")
          for (const [pattern, s] of Object.entries(rule as Record<string, Schema>))
            for (const [name, v] of Object.entries(value as object)) if (new RegExp(pattern, "u").test(name)) errors.push(...validate(s, v, root, `${at}.${name}`));
        break;
      case "additionalProperties":
        if (typeOf(value) === "object") {
          const known = Object.keys((schema.properties as object | undefined) ?? {});
          const patterns = Object.keys((schema.patternProperties as object | undefined) ?? {}).map((p) => new RegExp(p, "u"));
          for (const [name, v] of Object.entries(value as object)) {
            if (known.includes(name) || patterns.some((p) => p.test(name))) continue;
            if (rule === false) fail(`has ${name}, which the schema does not allow`);
            else if (typeof rule === "object") errors.push(...validate(rule as Schema, v, root, `${at}.${name}`));
          }
        }
        break;
      case "minProperties":
      case "maxProperties":
        if (typeOf(value) === "object") {
          const n = Object.keys(value as object).length;
          if (key === "minProperties" ? n < (rule as number) : n > (rule as number)) fail(`${n} properties break ${key} ${rule}`);
        }
        break;
      default:
        fail(`the schema uses ${key}, which this check does not know`);
    }
  }
  return errors;
}
