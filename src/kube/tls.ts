// Self-signed TLS material for servers this project runs itself (the local API server; the controller manager's
// webhooks use the same shape): a CA and a serving certificate signed by it, as PEM strings. Keys come from
// node:crypto, certificates are written with node-forge (pure JavaScript; decision 0012).
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface ServingCerts {
  cert: string;
  key: string;
  ca: string;
}

interface RsaKeys {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

function rsaKeys(): RsaKeys {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey;
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) };
}

function certificate(subject: string, keys: RsaKeys, nowMs: number, validMs: number): forge.pki.Certificate {
  const c = forge.pki.createCertificate();
  c.publicKey = keys.publicKey;
  // Positive serial: a leading 0 nibble keeps the DER integer unsigned.
  c.serialNumber = `0${randomBytes(15).toString('hex')}`;
  c.validity.notBefore = new Date(nowMs - 60_000);
  c.validity.notAfter = new Date(nowMs + validMs);
  c.setSubject([
    { name: 'commonName', value: subject },
    { name: 'organizationName', value: 'kthena' },
  ]);
  return c;
}

/**
 * A new CA and a serving certificate signed by it, valid for `names` (DNS names and IP addresses, told apart by
 * their form) for `validMs` from `nowMs`.
 */
export function generateServingCerts(o: {
  caName: string;
  names: readonly string[];
  nowMs?: number;
  validMs: number;
}): ServingCerts {
  const nowMs = o.nowMs ?? Date.now();
  const caKeys = rsaKeys();
  const ca = certificate(o.caName, caKeys, nowMs, o.validMs);
  ca.setIssuer(ca.subject.attributes);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const keys = rsaKeys();
  const cert = certificate(o.names[0] ?? 'localhost', keys, nowMs, o.validMs);
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: o.names.map((value) => (isIP(value) ? { type: 7, ip: value } : { type: 2, value })),
    },
  ]);
  cert.sign(caKeys.privateKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(keys.privateKey),
    ca: forge.pki.certificateToPem(ca),
  };
}
