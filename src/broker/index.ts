export * from "./port";
export { SimBroker } from "./sim";
