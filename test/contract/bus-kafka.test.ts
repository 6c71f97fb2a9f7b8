import { describe, test } from "bun:test";
import { KafkaBus } from "../../src/bus/kafka";
import { busContract } from "./bus";

const brokers = process.env.AWET_TEST_KAFKA_BROKERS;
if (brokers) {
  let n = 0;
  const run = `t${Date.now().toString(36)}`;
  busContract("kafka", (onError) => new KafkaBus({ brokers: brokers.split(","), topicPrefix: `${run}-${++n}.`, groupPrefix: `awet-test-${run}-${n}`, onError, maxAttempts: 2 }));
} else {
  console.log("EventBus contract on Kafka: skipped (AWET_TEST_KAFKA_BROKERS is not set; no Kafka broker can run on these machines)");
  describe.skip("EventBus contract: kafka (AWET_TEST_KAFKA_BROKERS not set)", () => test("skipped", () => {}));
}
