// A real OpenID provider for the sign-in tests: the npm package oidc-provider, serving
// on 127.0.0.1 with murphy registered as a confidential client (authorization code,
// PKCE required). Its development login page takes any login; the accounts below say
// which student each login is (the `student_id` claim) and who is the registrar (the
// `groups` claim holds "registrar"). Claims come from the userinfo endpoint, as most
// university providers give them.

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
  const port = Number(new URL(issuer).port);
  const server = await new Promise((resolve) => {
    const s = provider.listen(port, "127.0.0.1", () => resolve(s));
  });
  return { stop: () => new Promise((r) => server.close(() => r())) };
}
