export * from "./port";
export { SqliteStore } from "./sqlite";
export { loadMigrations } from "./migrations";
export { TABLES, ALL_TABLES, type Kind, type Table, type TableName } from "./tables";
