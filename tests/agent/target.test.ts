import t from "tap";
import { codeFromFileName, normalizeGateway, parseCode, resolveTarget } from "../../agent/target.ts";
import { backoffDelay } from "../../shared/backoff.ts";

const TOKEN = "AbCdEfGhIjKlMnOpQrStUvWx";

t.test("a PIN may be typed with spaces or dashes", async (t) => {
  t.same(parseCode("123456789"), { kind: "pin", pin: "123456789" });
  t.same(parseCode(" 123 456 789 "), { kind: "pin", pin: "123456789" });
  t.same(parseCode("123-456-789"), { kind: "pin", pin: "123456789" });
  t.equal(parseCode("12345678"), undefined);
});

t.test("a session link carries its gateway, with any base path", async (t) => {
  t.same(parseCode(`https://sos.example.com/s/${TOKEN}`), {
    kind: "link",
    token: TOKEN,
    gateway: "https://sos.example.com",
  });
  t.same(parseCode(`https://example.com/support/s/${TOKEN}/`), {
    kind: "link",
    token: TOKEN,
    gateway: "https://example.com/support",
  });
  t.equal(parseCode(`ftp://example.com/s/${TOKEN}`), undefined);
  t.equal(parseCode("https://example.com/s/short"), undefined);
});

t.test("a gateway typed without a scheme means https", async (t) => {
  t.equal(normalizeGateway("sos.example.com"), "https://sos.example.com");
  t.equal(normalizeGateway("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
  t.throws(() => normalizeGateway("ws://sos.example.com"));
});

t.test("a session code in the executable's name is found", async (t) => {
  t.equal(codeFromFileName("/home/u/Downloads/SOS-123456789.exe"), "123456789");
  t.equal(codeFromFileName(`/tmp/sos_${TOKEN}`), TOKEN);
  t.equal(codeFromFileName("/usr/bin/node"), undefined);
  t.equal(codeFromFileName("/opt/sos-1234567890"), undefined, "ten digits are not a PIN");
});

t.test(
  "the gateway for a PIN: --gateway, then SOS_GATEWAY, then the branded build, then asking",
  async (t) => {
    const base = { code: "123456789", executable: "/usr/bin/node", ask: undefined };
    const join = { kind: "pin", pin: "123456789" };
    t.same(
      await resolveTarget({
        ...base,
        gatewayOption: "a.example",
        env: { SOS_GATEWAY: "b.example" },
        bakedGateway: "c",
      }),
      { gateway: "https://a.example", join },
    );
    t.same(
      await resolveTarget({
        ...base,
        gatewayOption: undefined,
        env: { SOS_GATEWAY: "b.example" },
        bakedGateway: "c",
      }),
      {
        gateway: "https://b.example",
        join,
      },
    );
    t.same(await resolveTarget({ ...base, gatewayOption: undefined, env: {}, bakedGateway: "c.example" }), {
      gateway: "https://c.example",
      join,
    });
    const asked: string[] = [];
    const target = await resolveTarget({
      ...base,
      code: undefined,
      gatewayOption: undefined,
      env: {},
      bakedGateway: undefined,
      ask: async (question) => {
        asked.push(question);
        return question === "pin" ? "987 654 321" : "d.example";
      },
    });
    t.same(asked, ["pin", "gateway"]);
    t.same(target, { gateway: "https://d.example", join: { kind: "pin", pin: "987654321" } });
    await t.rejects(resolveTarget({ ...base, gatewayOption: undefined, env: {}, bakedGateway: undefined }), {
      name: "AgentError",
      message: /No gateway address/,
    });
  },
);

t.test("a link needs no gateway from anywhere else", async (t) => {
  const target = await resolveTarget({
    code: `https://sos.example.com/s/${TOKEN}`,
    gatewayOption: "ignored.example",
    env: {},
    bakedGateway: undefined,
    executable: "/usr/bin/node",
    ask: undefined,
  });
  t.same(target, { gateway: "https://sos.example.com", join: { kind: "link", token: TOKEN } });
});

t.test("reconnect delays grow, are capped, and are jittered", async (t) => {
  const options = { baseMs: 500, maxMs: 10_000 };
  t.equal(
    backoffDelay(0, options, () => 0),
    250,
  );
  t.equal(
    backoffDelay(0, options, () => 1),
    500,
  );
  t.equal(
    backoffDelay(3, options, () => 1),
    4_000,
  );
  t.equal(
    backoffDelay(10, options, () => 1),
    10_000,
  );
  t.equal(
    backoffDelay(10, options, () => 0),
    5_000,
  );
});
