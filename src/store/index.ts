export * from "./port";
export { SqliteStore } from "./sqlite";
export { loadMigrations } from "./migrations";
