#!/usr/bin/env node
// start.js: a real S3 protocol server for Easel's blob store tests.
//
// Starts s3rver (pinned in package.json) on 127.0.0.1 with an ephemeral
// port, creates the bucket, and prints one line `{"port": N}` on stdout once
// it serves. It stops when stdin closes or on SIGTERM.
//
// s3rver 3.7.1 checks that the access key id is one it knows but does not
// compute AWS Signature V4 (its source says "Signature version 4 calculation
// is unimplemented"): it would take any signature. So every request passes a
// gate first that computes the SigV4 signature of the request with node's
// crypto and answers 403 SignatureDoesNotMatch (S3's XML error) when it
// differs, for header-signed requests and presigned (query) URLs alike,
// and 403 AccessDenied "Request has expired" for a presigned URL past its
// X-Amz-Expires. The signing being checked is libcurl's (and for presigned
// URLs, Easel's): this file only verifies.
//
// s3rver makes ListObjectsV2 continuation tokens with DES, which OpenSSL 3
// keeps in its legacy provider: run node with --openssl-legacy-provider.
//
// To try a client's retries, after the signature check: a request for a key
// under flaky/ answers 503 SlowDown the first two times it is sent (counted
// by method and path), and one under down/ always does.
//
// To try an uploader's checks: a line `lie-etag` on stdin makes the next
// PUT under incoming/ store the object as sent but answer with another
// ETag (a store that kept other bytes), and prints `{"armed": "lie-etag"}`;
// a line `fail-put` makes the next PUT under incoming/ answer 503 SlowDown
// (not stored), and prints `{"armed": "fail-put"}`.
//
// Usage: node --openssl-legacy-provider start.js --dir DIR --bucket NAME --access-key K --secret-key S
//        [--service-endpoint test]   (so NAME.s3.test is the virtual-hosted name)
'use strict';

const crypto = require('crypto');
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');
const S3Error = require('s3rver/lib/models/error');

function args() {
  const out = { 'service-endpoint': 'test' };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--') || argv[i + 1] === undefined) {
      throw new Error(`start.js: bad argument ${argv[i]} (want --name value pairs)`);
    }
    out[argv[i].slice(2)] = argv[i + 1];
  }
  for (const need of ['dir', 'bucket', 'access-key', 'secret-key']) {
    if (!out[need]) throw new Error(`start.js: --${need} is required`);
  }
  return out;
}

// RFC 3986 encoding as SigV4 wants it: unreserved characters kept.
function uriEncode(s, keepSlash) {
  return Array.from(Buffer.from(s, 'utf8'))
    .map(b => {
      const c = String.fromCharCode(b);
      if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === '/')) return c;
      return '%' + b.toString(16).toUpperCase().padStart(2, '0');
    })
    .join('');
}

function hmac(key, text) {
  return crypto.createHmac('sha256', key).update(text, 'utf8').digest();
}

function sha256hex(text) {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

function decode(s) {
  return decodeURIComponent(s.replace(/\+/g, '%20'));
}

// The signature of a request, per the SigV4 documentation.
function signature(secret, { method, path, pairs, headers, signedHeaders, payloadHash, amzDate, scope }) {
  const canonicalUri = uriEncode(decode(path), true);
  const canonicalQuery = pairs
    .map(([k, v]) => [uriEncode(k), uriEncode(v)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const names = signedHeaders.split(';');
  const canonicalHeaders = names
    .map(n => `${n}:${String(headers[n] ?? '').trim().replace(/\s+/g, ' ')}\n`)
    .join('');
  const canonical = [method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const [date, region, service] = scope.split('/');
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256hex(canonical)].join('\n');
  let key = hmac('AWS4' + secret, date);
  key = hmac(key, region);
  key = hmac(key, service);
  key = hmac(key, 'aws4_request');
  return crypto.createHmac('sha256', key).update(toSign, 'utf8').digest('hex');
}

function refuse(code, message) {
  throw new S3Error(code, message, {});
}

function sigv4Gate(accounts) {
  return async function gate(ctx, next) {
    const raw = ctx.req.url;
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const pairs = (q < 0 ? '' : raw.slice(q + 1))
      .split('&')
      .filter(p => p.length)
      .map(p => {
        const e = p.indexOf('=');
        return e < 0 ? [decode(p), ''] : [decode(p.slice(0, e)), decode(p.slice(e + 1))];
      });
    const query = Object.fromEntries(pairs);
    const auth = ctx.get('authorization');
    let req;
    let given;
    let accessKey;
    if (query['X-Amz-Algorithm']) {
      const [ak, ...scope] = (query['X-Amz-Credential'] || '').split('/');
      accessKey = ak;
      given = query['X-Amz-Signature'];
      const amzDate = query['X-Amz-Date'] || '';
      const expires = Number(query['X-Amz-Expires']);
      const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
      if (!m || !Number.isInteger(expires) || expires < 1 || expires > 604800) {
        refuse('AuthorizationQueryParametersError', 'X-Amz-Date and X-Amz-Expires must be well formed');
      }
      const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
      if (Date.now() > t + expires * 1000) refuse('AccessDenied', 'Request has expired');
      req = {
        method: ctx.method, path, headers: ctx.headers, amzDate,
        pairs: pairs.filter(([k]) => k !== 'X-Amz-Signature'),
        signedHeaders: query['X-Amz-SignedHeaders'] || '',
        payloadHash: 'UNSIGNED-PAYLOAD',
        scope: scope.join('/'),
      };
    } else if (auth.startsWith('AWS4-HMAC-SHA256 ')) {
      const fields = Object.fromEntries(
        auth.slice(17).split(',').map(f => f.trim().split('=')).map(([k, ...v]) => [k, v.join('=')]));
      const [ak, ...scope] = (fields.Credential || '').split('/');
      accessKey = ak;
      given = fields.Signature;
      req = {
        method: ctx.method, path, pairs, headers: ctx.headers,
        amzDate: ctx.get('x-amz-date'),
        signedHeaders: fields.SignedHeaders || '',
        payloadHash: ctx.get('x-amz-content-sha256') || sha256hex(''),
        scope: scope.join('/'),
      };
    } else {
      refuse('AccessDenied', 'Easel\'s test server takes only AWS Signature V4 requests');
    }
    const secret = accounts.get(accessKey);
    if (secret === undefined) {
      refuse('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    }
    if (!req.signedHeaders.split(';').includes('host') || given !== signature(secret, req)) {
      refuse('SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.');
    }
    return next();
  };
}

const armed = { lieEtag: 0, failPut: 0 };

function faults() {
  const seen = new Map();
  return async function fault(ctx, next) {
    if (ctx.method === 'PUT' && /\/incoming\//.test(ctx.req.url) && armed.failPut > 0) {
      armed.failPut--;
      refuse('SlowDown', 'Please reduce your request rate.');
    }
    if (ctx.method === 'PUT' && /\/incoming\//.test(ctx.req.url) && armed.lieEtag > 0) {
      armed.lieEtag--;
      await next();
      ctx.set('ETag', '"' + '0'.repeat(32) + '"');
      return undefined;
    }
    const path = ctx.req.url.split('?')[0];
    const count = (seen.get(ctx.method + ' ' + path) || 0) + 1;
    seen.set(ctx.method + ' ' + path, count);
    if (/\/down\//.test(path) || (/\/flaky\//.test(path) && count <= 2)) {
      refuse('SlowDown', 'Please reduce your request rate.');
    }
    return next();
  };
}

// A client that dies mid-request (a scheduler killed by a fault test) must
// not take the server down with it: the error is logged, the server goes on.
process.on('uncaughtException', err => {
  process.stderr.write(`start.js: ${err.code || ''} ${err.message} (kept serving)\n`);
});
process.on('unhandledRejection', err => {
  process.stderr.write(`start.js: ${err && err.message} (kept serving)\n`);
});

async function main() {
  const opt = args();
  try {
    crypto.createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
  } catch (err) {
    throw new Error('s3rver needs DES for its list tokens: run node --openssl-legacy-provider start.js');
  }
  AWSAccount.DUMMY_ACCOUNT.revokeAccessKey('S3RVER');
  AWSAccount.DUMMY_ACCOUNT.createKeyPair(opt['access-key'], opt['secret-key']);
  const accounts = new Map([[opt['access-key'], opt['secret-key']]]);
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: opt.dir,
    serviceEndpoint: opt['service-endpoint'],
    vhostBuckets: true,
    configureBuckets: [{ name: opt.bucket }],
  });
  // first of all middleware: nothing reaches s3rver unsigned or missigned
  server.middleware.unshift(sigv4Gate(accounts), faults());
  const { port } = await server.run();
  process.stdout.write(JSON.stringify({ port }) + '\n');
  const stop = () => server.close().then(() => process.exit(0));
  process.stdin.on('end', stop);
  let pending = '';
  process.stdin.on('data', chunk => {
    pending += chunk.toString('utf8');
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line === 'lie-etag' || line === 'fail-put') {
        armed[line === 'lie-etag' ? 'lieEtag' : 'failPut']++;
        process.stdout.write(JSON.stringify({ armed: line }) + '\n');
      }
    }
  });
  process.stdin.resume();
  process.on('SIGTERM', stop);
}

main().catch(err => {
  process.stderr.write(`start.js: ${err.message}\n`);
  process.exit(1);
});
