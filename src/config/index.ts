export * from "./schema";
export * from "./load";
export { packageRoot } from "./paths";
