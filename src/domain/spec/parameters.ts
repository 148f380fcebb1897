/**
 * The parameters of a ServiceContext (PutService `parameters`): template variables, whose values
 * end up in the rendered spec and from there in names, paths and task environments. They are
 * checked whether or not the template uses them, since they are stored with the service.
 */
import { abbreviate } from "../errors.js";
import type { FieldViolation } from "../errors.js";
import { controlProblem } from "./fields.js";

/** TASKCFG_ALL_<NAME> / TASKCFG_<POD>_<NAME> become task environment variables (task-config.ts). */
const TASKCFG = /^TASKCFG_[A-Za-z0-9_]*[A-Za-z0-9]_[A-Za-z_][A-Za-z0-9_]*$/;
const TASKCFG_RULE = "a TASKCFG_ parameter becomes an environment variable: TASKCFG_ALL_<NAME> or TASKCFG_<POD>_<NAME>, letters, digits and '_' only";

/**
 * Refuses an empty name, a control character in a name (C0 with tab and newline, DEL, C1) and
 * NUL in a value; values keep tab, newline and other text (PEM data put into env). Each
 * violation has the field `parameters.<name>` (abbreviated).
 */
export function validateParameters(parameters: Readonly<Record<string, string>>): FieldViolation[] {
  const violations: FieldViolation[] = [];
  for (const [key, value] of Object.entries(parameters)) {
    const field = `parameters.${abbreviate(key)}`;
    const keyProblem = key === "" ? "must not be empty" : controlProblem(key);
    if (keyProblem !== undefined) violations.push({ field, reason: `name ${keyProblem}` });
    else if (key.startsWith("TASKCFG_") && !TASKCFG.test(key)) violations.push({ field, reason: TASKCFG_RULE });
    if (value.includes("\0")) violations.push({ field, reason: "value must not contain NUL (U+0000)" });
  }
  return violations;
}
