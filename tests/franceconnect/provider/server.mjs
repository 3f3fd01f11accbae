// An OpenID Connect provider set up the way FranceConnect v2 is, for assure's tests only.
//
// It runs the engine FranceConnect runs (oidc-provider 9) with the same choices as
// docs FRANCECONNECT.md: ES256 keys made at start, signed userinfo, acr eidas1, the scope-to-claims
// map of the identity pivot, pairwise `sub`, 30/60/60 s lifetimes, RP-initiated logout with state,
// client_secret_post, no PKCE, and any authorization parameter outside FranceConnect's list refused.
//
// Configuration comes from the environment (set by tests/franceconnect/provider.py):
//   PORT, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, POST_LOGOUT_REDIRECT_URI,
//   IDENTITIES (JSON object: name -> claims of the identity pivot).
// The interaction page lists one button per identity and a "cancel" button.

import crypto from 'node:crypto';
import http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = `http://127.0.0.1:${port}`;
const identities = JSON.parse(process.env.IDENTITIES || '{}');

// FranceConnect answers an unknown authorization parameter with an error page (france-connect
// sources): the same here, so that a stray PKCE or extra parameter fails the tests.
const AUTHORIZE_PARAMETERS = new Set([
  'response_type', 'client_id', 'redirect_uri', 'scope', 'acr_values', 'state', 'nonce',
  'prompt', 'ui_locales',
]);

function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = privateKey.export({ format: 'jwk' });
  return { ...jwk, kid: crypto.randomBytes(8).toString('hex'), alg: 'ES256', use: 'sig' };
}

function escapeHtml(value) {
  return String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const configuration = {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: [process.env.REDIRECT_URI],
    post_logout_redirect_uris: [process.env.POST_LOGOUT_REDIRECT_URI],
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: 'ES256',
    userinfo_signed_response_alg: 'ES256',
    subject_type: 'pairwise',
    require_auth_time: true,
  }],
  jwks: { keys: [signingKey()] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  routes: {
    authorization: '/authorize',
    token: '/token',
    userinfo: '/userinfo',
    jwks: '/jwks',
    end_session: '/session/end',
  },
  scopes: ['openid', 'identite_pivot', 'email', 'preferred_username'],
  claims: {
    openid: ['sub'],
    identite_pivot: [
      'given_name', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry',
    ],
    email: ['email'],
    preferred_username: ['preferred_username'],
  },
  acrValues: ['eidas1'],
  subjectTypes: ['public', 'pairwise'],
  pairwiseIdentifier: async (ctx, accountId, client) => crypto.createHash('sha256')
    .update(`${client.clientId}:${accountId}:assure-tests`).digest('hex'),
  enabledJWA: {
    idTokenSigningAlgValues: ['ES256', 'RS256', 'HS256'],
    userinfoSigningAlgValues: ['ES256', 'RS256', 'HS256'],
  },
  features: {
    devInteractions: { enabled: false },
    jwtUserinfo: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // FranceConnect ends its session without asking: the form is sent at once.
      logoutSource: async (ctx, form) => {
        ctx.body = `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>Déconnexion</title></head><body>${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes">Se déconnecter</button>
<script>document.forms['op.logoutForm'].insertAdjacentHTML('beforeend',
'<input type="hidden" name="logout" value="yes">');document.forms['op.logoutForm'].submit();</script>
</body></html>`;
      },
    },
  },
  pkce: { required: () => false },
  ttl: {
    AuthorizationCode: 30,
    AccessToken: 60,
    IdToken: 60,
    Interaction: 600,
    Session: 600,
    Grant: 600,
  },
  findAccount: async (ctx, accountId) => {
    const claims = identities[accountId];
    if (!claims) return undefined;
    return { accountId, claims: async () => ({ sub: accountId, ...claims }) };
  },
  loadExistingGrant: async (ctx) => {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    // The person has consented on FranceConnect's own screens: every request gets its grant.
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId, accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope('openid identite_pivot email preferred_username');
    grant.addOIDCClaims(['acr', 'amr', 'auth_time']);
    await grant.save();
    return grant;
  },
  interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Erreur</title>
</head><body><h1>Erreur FranceConnect</h1><p id="error">${escapeHtml(out.error)}</p>
<p>${escapeHtml(out.error_description || '')}</p></body></html>`;
  },
};

const provider = new Provider(issuer, configuration);
provider.use(async (ctx, next) => {
  if (ctx.path === '/authorize') {
    const refused = Object.keys(ctx.query).filter((name) => !AUTHORIZE_PARAMETERS.has(name));
    if (refused.length) {
      throw new errors.InvalidRequest(`parameter not allowed: ${refused.sort().join(', ')}`);
    }
  }
  await next();
});

function interactionPage(uid) {
  const buttons = Object.keys(identities).map((name) => `<li><button type="submit" name="identity"
 value="${escapeHtml(name)}">${escapeHtml(name)}</button></li>`).join('\n');
  return `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8">
<title>FranceConnect de test</title></head><body><main><h1>Choisir une identité de test</h1>
<form method="post" action="/interaction/${uid}/login"><ul>${buttons}</ul></form>
<form method="post" action="/interaction/${uid}/abort"><button type="submit">Annuler</button></form>
</main></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function interaction(req, res) {
  const [, , uid, action] = new URL(req.url, issuer).pathname.split('/');
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) throw new Error('interaction mismatch');
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(interactionPage(uid));
    return;
  }
  let result;
  if (action === 'abort') {
    result = { error: 'access_denied', error_description: 'User auth aborted' };
  } else {
    const form = await readForm(req);
    const name = form.get('identity');
    if (!identities[name]) throw new Error('unknown identity');
    result = { login: { accountId: name, acr: 'eidas1', amr: ['pwd'] } };
  }
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (req.url.startsWith('/interaction/')) {
    interaction(req, res).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(String(error && error.message));
    });
    return;
  }
  callback(req, res);
});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
