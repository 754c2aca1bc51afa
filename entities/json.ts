/**
 * A JSON object stored in a jsonb column. `any` values because TypeORM's
 * partial-entity types cannot map `unknown`; the shapes are validated at the API edge.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type JsonObject = { [key: string]: any };
