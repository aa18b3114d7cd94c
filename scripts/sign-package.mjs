#!/usr/bin/env node
// Signs a deployment package for lambdalite's code signing (README: Code signing).
// Usage: node scripts/sign-package.mjs --key private-key.pem --profile-version-arn ARN [--job-arn ARN] in.zip out.zip
// The key is an EC P-384 private key (openssl ecparam -name secp384r1 -genkey -noout -out key.pem); the
// server trusts the matching public key through --signing-profiles. Needs a build (npm run build).
import { readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { signPackage } = await import(path.join(root, 'dist', 'src', 'control', 'code-signing.js'));

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const [value] = args.splice(i, 2).slice(1);
  return value;
};
const key = option('--key');
const profile = option('--profile-version-arn');
const job = option('--job-arn');
const [input, output] = args;
if (!key || !profile || !input || !output) {
  console.error('usage: sign-package.mjs --key private-key.pem --profile-version-arn ARN [--job-arn ARN] in.zip out.zip');
  process.exit(2);
}
const region = profile.split(':')[3] ?? 'us-east-1';
const account = profile.split(':')[4] ?? '000000000000';
const jobArn = job ?? `arn:aws:signer:${region}:${account}:/signing-jobs/${randomUUID()}`;
writeFileSync(output, signPackage(readFileSync(input), readFileSync(key, 'utf8'), profile, jobArn));
console.log(`wrote ${output} signed by ${profile}`);
