// A minimal service on runService for test/services/core/run-service.test.ts: its start and
// its close steps do what the environment asks, so every exit path can be reached for real.
//   START_FAILS=1          start rejects
//   CLOSE_MS=n             the first close step takes n ms (time for a second signal)
//   CLOSE_FAILS=1          the first close step rejects
// It prints "started" once start resolved and "closed: <step>" for each step that ran.
import { createLogger } from "../../../services/core/logger.js";
import { runService } from "../../../services/core/run-service.js";

const env = process.env;
const say = (line: string) => void process.stdout.write(`${line}\n`);
// Keeps the process alive like a listening server would.
const keepAlive = setInterval(() => undefined, 60_000);

await runService({
  log: createLogger("info", { service: "run-service-child" }),
  start: async () => {
    if (env.START_FAILS === "1") throw new Error("start refused");
    say("started");
  },
  close: [
    [
      "slow",
      async () => {
        await new Promise((r) => setTimeout(r, Number(env.CLOSE_MS ?? 0)));
        if (env.CLOSE_FAILS === "1") throw new Error("close refused");
        say("closed: slow");
      },
    ],
    ["timer", () => (clearInterval(keepAlive), say("closed: timer"))],
  ],
});
