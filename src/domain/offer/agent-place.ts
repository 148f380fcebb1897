/**
 * Where an agent is, as placement sees it: its hostname and attributes, read from an offer, and
 * kept on every TaskInfo launched there (the reference's labels offer_hostname,
 * offer_attributes, offer_zone, offer_region, §2.2), so the task records alone say where each
 * pod instance runs. Zone and region are the agent attributes `zone` and `region`.
 */
import type { Offer } from "../cluster.js";

export const LABEL_OFFER_HOSTNAME = "offer_hostname";
/** `name:value;name:value`, sorted by name, as the reference writes attributes. */
export const LABEL_OFFER_ATTRIBUTES = "offer_attributes";
export const LABEL_OFFER_ZONE = "offer_zone";
export const LABEL_OFFER_REGION = "offer_region";

export const ZONE_ATTRIBUTE = "zone";
export const REGION_ATTRIBUTE = "region";

export interface AgentPlace {
  readonly hostname: string;
  readonly attributes: Readonly<Record<string, string>>;
}

const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});

export function offerPlace(offer: Offer): AgentPlace {
  return { hostname: offer.hostname, attributes: offer.attributes ?? NO_ATTRIBUTES };
}

/** The TaskInfo labels that say where a task was launched. */
export function placeLabels(offer: Offer): Record<string, string> {
  const attributes = offer.attributes ?? NO_ATTRIBUTES;
  const names = Object.keys(attributes).sort();
  const labels: Record<string, string> = {
    [LABEL_OFFER_HOSTNAME]: offer.hostname,
    [LABEL_OFFER_ATTRIBUTES]: names.map((n) => `${n}:${attributes[n]}`).join(";"),
  };
  const zone = attributes[ZONE_ATTRIBUTE];
  const region = attributes[REGION_ATTRIBUTE];
  if (zone !== undefined) labels[LABEL_OFFER_ZONE] = zone;
  if (region !== undefined) labels[LABEL_OFFER_REGION] = region;
  return labels;
}

/** `ZONE` and `REGION` of the agent, when it has them: the environment the reference gives tasks (§4.2). */
export function placeEnv(offer: Offer): Record<string, string> {
  const zone = offer.attributes?.[ZONE_ATTRIBUTE];
  const region = offer.attributes?.[REGION_ATTRIBUTE];
  return { ...(zone !== undefined ? { ZONE: zone } : {}), ...(region !== undefined ? { REGION: region } : {}) };
}

/** Where a task with these labels was launched; undefined for a record without them. */
export function placeOfLabels(labels: Readonly<Record<string, string>>): AgentPlace | undefined {
  const hostname = labels[LABEL_OFFER_HOSTNAME];
  if (hostname === undefined) return undefined;
  const text = labels[LABEL_OFFER_ATTRIBUTES] ?? "";
  const attributes: Record<string, string> = {};
  for (const pair of text === "" ? [] : text.split(";")) {
    const colon = pair.indexOf(":");
    if (colon > 0) attributes[pair.slice(0, colon)] = pair.slice(colon + 1);
  }
  const zone = labels[LABEL_OFFER_ZONE];
  const region = labels[LABEL_OFFER_REGION];
  if (zone !== undefined) attributes[ZONE_ATTRIBUTE] = zone;
  if (region !== undefined) attributes[REGION_ATTRIBUTE] = region;
  return { hostname, attributes };
}
