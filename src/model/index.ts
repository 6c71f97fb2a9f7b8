export * from "./baseline";
