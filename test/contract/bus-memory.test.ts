import { MemoryBus } from "../../src/bus/memory";
import { busContract } from "./bus";

busContract("memory", (onError) => new MemoryBus(onError));
