// A real OpenID provider for the sign-in tests: the npm package oidc-provider, serving
// on 127.0.0.1 with murphy registered as a confidential client (authorization code,
// PKCE required). Its development login page takes any login; the accounts below say
// which student each login is (the `student_id` claim) and who is the registrar (the
// `groups` claim holds "registrar"). Claims come from the userinfo endpoint, as most
// university providers give them.

import { request as httpRequest, createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import Provider from "oidc-provider";

export const CLIENT_ID = "murphy";
export const CLIENT_SECRET = "murphy-test-secret";

const ACCOUNTS = {
  ada: { student_id: "s0001", name: "Ada Bruin", groups: ["students"] },
  registrar: { name: "The Registrar", groups: ["staff", "registrar"] },
  stranger: { student_id: "s9999", name: "Not Enrolled", groups: ["students"] },
};

/** A free port on 127.0.0.1 (murphy is told the issuer's URL before it starts). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The provider at `issuer` (http://127.0.0.1:PORT), sending browsers back to murphy. */
export async function startProvider(issuer, murphyUrl) {
  return listen(provider(issuer, murphyUrl), Number(new URL(issuer).port));
}

/**
 * The same provider behind a proxy at `issuer` that alters every ID token on its way
 * from the token endpoint: the registrar's group added to the claims, the provider's
 * signature kept. What a tampered channel, or an endpoint answering for another, would
 * hand murphy; only the signature tells.
 */
export async function startForgingProvider(issuer, murphyUrl) {
  const inner = await listen(provider(issuer, murphyUrl), await freePort());
  const proxy = createHttpServer((req, res) => {
    const upstream = httpRequest({ host: "127.0.0.1", port: inner.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      const chunks = [];
      answer.on("data", (c) => chunks.push(c));
      answer.on("end", () => {
        let body = Buffer.concat(chunks);
        const headers = { ...answer.headers };
        if (req.method === "POST" && req.url.endsWith("/token") && answer.statusCode === 200) {
          const tokens = JSON.parse(body.toString("utf8"));
          const [head, payload, signature] = tokens.id_token.split(".");
          const claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
          claims.groups = ["registrar"];
          tokens.id_token = [head, Buffer.from(JSON.stringify(claims)).toString("base64url"), signature].join(".");
          body = Buffer.from(JSON.stringify(tokens));
          headers["content-length"] = String(body.length);
        }
        res.writeHead(answer.statusCode, headers);
        res.end(body);
      });
    });
    req.pipe(upstream);
  });
  await new Promise((resolve) => proxy.listen(Number(new URL(issuer).port), "127.0.0.1", resolve));
  return {
    stop: async () => {
      await new Promise((r) => proxy.close(() => r()));
      await inner.stop();
    },
  };
}

function provider(issuer, murphyUrl) {
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [`${murphyUrl}/auth/oidc/callback`],
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
    }],
    pkce: { required: () => true },
    claims: { openid: ["sub"], profile: ["name", "student_id", "groups"] },
    cookies: { keys: ["murphy-web-tests"] },
    async findAccount(_ctx, id) {
      const account = ACCOUNTS[id];
      if (!account) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...account }; } };
    },
  });
  // Plain HTTP on loopback: tell the provider its requests are what they are.
  provider.proxy = false;
  return provider;
}

async function listen(provider, port) {
  const server = await new Promise((resolve) => {
    const s = provider.listen(port, "127.0.0.1", () => resolve(s));
  });
  return { port, stop: () => new Promise((r) => server.close(() => r())) };
}
