import { generateKeyPairSync } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';
import { randomHex } from './ids.js';

/**
 * The sim's own CA, one serving certificate for 127.0.0.1 / localhost that every cluster uses, and one for
 * `*.googleapis.com` that the client proxy presents.
 */
export interface SimCertificates {
  caPem: string;
  serverKeyPem: string;
  serverCertPem: string;
  /** For `*.googleapis.com`: what the client proxy presents to gcloud (see clientProxy.ts). */
  googleKeyPem: string;
  googleCertPem: string;
}

interface KeyPair {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
}

// node-forge's pure-JS RSA key generation takes seconds; node's is milliseconds.
function rsaKeyPair(): KeyPair {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const forgePrivate = forge.pki.privateKeyFromPem(privateKey);
  return { privateKey: forgePrivate, publicKey: forge.pki.setRsaPublicKey(forgePrivate.n, forgePrivate.e) };
}

/**
 * 16 random bytes as a DER INTEGER must be positive and minimally encoded: a first byte of 0x01–0x7f is both.
 * (A leading 00 followed by a byte below 0x80, or a 00 00, is rejected by OpenSSL as "illegal padding".)
 */
function serialNumber(): string {
  const first = 1 + (Number.parseInt(randomHex(1), 16) % 0x7f);
  return first.toString(16).padStart(2, '0') + randomHex(15);
}

function newCertificate(publicKey: forge.pki.rsa.PublicKey, now: Date): forge.pki.Certificate {
  const cert = forge.pki.createCertificate();
  cert.publicKey = publicKey;
  cert.serialNumber = serialNumber();
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000);
  cert.validity.notAfter = new Date(now.getTime() + 5 * 365 * 24 * 60 * 60 * 1000);
  return cert;
}

type AltName = { type: 2; value: string } | { type: 7; ip: string };

function signedLeaf(
  ca: { cert: forge.pki.Certificate; key: forge.pki.rsa.PrivateKey },
  commonName: string,
  altNames: AltName[],
  now: Date,
): { keyPem: string; certPem: string } {
  const keys = rsaKeyPair();
  const cert = newCertificate(keys.publicKey, now);
  cert.setSubject([{ name: 'commonName', value: commonName }]);
  cert.setIssuer(ca.cert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames },
  ]);
  cert.sign(ca.key, forge.md.sha256.create());
  return {
    keyPem: lf(forge.pki.privateKeyToPem(keys.privateKey)),
    certPem: lf(forge.pki.certificateToPem(cert)),
  };
}

// forge writes CRLF line ends; GKE's clusterCaCertificate decodes to LF ones.
function lf(pem: string): string {
  return pem.replace(/\r\n/g, '\n');
}

/** `host`: an extra address the API servers are reached at, besides 127.0.0.1 and localhost. */
export function createCertificates(host = '127.0.0.1', now = new Date()): SimCertificates {
  const extra: AltName[] =
    host === '127.0.0.1' || host === 'localhost'
      ? []
      : [isIP(host) ? { type: 7, ip: host } : { type: 2, value: host }];
  const caKeys = rsaKeyPair();
  const ca = newCertificate(caKeys.publicKey, now);
  const caSubject = [{ name: 'commonName', value: 'meshops-sim cluster CA' }];
  ca.setSubject(caSubject);
  ca.setIssuer(caSubject);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const signer = { cert: ca, key: caKeys.privateKey };

  const server = signedLeaf(
    signer,
    'kube-apiserver',
    [
      { type: 7, ip: '127.0.0.1' },
      { type: 2, value: 'localhost' },
      { type: 2, value: 'kubernetes.default.svc' },
      ...extra,
    ],
    now,
  );
  const google = signedLeaf(
    signer,
    '*.googleapis.com',
    [
      { type: 2, value: '*.googleapis.com' },
      { type: 2, value: 'googleapis.com' },
    ],
    now,
  );
  return {
    caPem: lf(forge.pki.certificateToPem(ca)),
    serverKeyPem: server.keyPem,
    serverCertPem: server.certPem,
    googleKeyPem: google.keyPem,
    googleCertPem: google.certPem,
  };
}
