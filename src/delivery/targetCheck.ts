// The check the API runs when a webhook URL is saved: the URL's form, then its DNS
// name's addresses. A name that does not resolve yet is accepted (it may be a receiver
// that is not up yet); the worker checks again, on the resolved address, at every send.
import type { AllowTargets } from "../config.ts";
import type { TargetVerdict } from "../domain.ts";
import { checkUrl, resolveAndCheck, type Lookup } from "./target.ts";

export async function checkTarget(raw: string, allow: AllowTargets, lookup?: Lookup): Promise<TargetVerdict> {
  const form = checkUrl(raw, allow);
  if (!form.ok) return form as TargetVerdict;
  const resolved = await resolveAndCheck(form.url.hostname, allow, lookup);
  if (resolved.ok || resolved.code === "target_unresolved") return { ok: true };
  return resolved as TargetVerdict;
}
