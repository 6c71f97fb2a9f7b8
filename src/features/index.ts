export * from "./rolling";
export * from "./indicators";
