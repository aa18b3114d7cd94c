// Fetches deployment packages from S3 with the AWS SDK, at the endpoint configuration gives (AWS itself
// by default; moto_server or LocalStack in tests), and answers S3's failures as Lambda does.
import { GetObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { errors, LambdaError } from '../shared/errors.js';
import { limits } from './code-store.js';

export interface S3FetchOptions {
  readonly endpoint: string | undefined;
  readonly region: string;
}

export class S3Fetcher {
  readonly #clients = new Map<string, S3Client>();
  readonly #endpoint: string | undefined;

  constructor(options: { endpoint: string | undefined }) {
    this.#endpoint = options.endpoint;
  }

  #client(region: string): S3Client {
    let c = this.#clients.get(region);
    if (!c) {
      c = new S3Client({
        region,
        ...(this.#endpoint ? { endpoint: this.#endpoint, forcePathStyle: true } : {}),
        // Without an endpoint the SDK's normal credential chain applies; a local endpoint takes any keys.
        ...(this.#endpoint && !process.env['AWS_ACCESS_KEY_ID'] ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {}),
      });
      this.#clients.set(region, c);
    }
    return c;
  }

  async fetch(region: string, bucket: string, key: string, version: string | undefined): Promise<Buffer> {
    try {
      const out = await this.#client(region).send(new GetObjectCommand({ Bucket: bucket, Key: key, ...(version ? { VersionId: version } : {}) }));
      const body = out.Body as (NodeJS.ReadableStream & { destroy?(): void }) | undefined;
      const tooLarge = () => {
        // An unread response body left open would later fail with an unhandled 'aborted' error.
        body?.on('error', () => {});
        body?.destroy?.();
        // No zip of more than the unzipped limit can unpack within it, so AWS's unzipped-size answer
        // applies before the download completes.
        return errors.invalidParameter(`Unzipped size must be smaller than ${limits.unzipped} bytes`);
      };
      if (out.ContentLength !== undefined && out.ContentLength > limits.unzipped) throw tooLarge();
      if (!body) return Buffer.alloc(0);
      // Counted while reading too, for responses without a Content-Length.
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of body) {
        size += (chunk as Buffer).length;
        if (size > limits.unzipped) throw tooLarge();
        chunks.push(chunk as Buffer);
      }
      return Buffer.concat(chunks);
    } catch (e) {
      if (e instanceof LambdaError) throw e;
      if (e instanceof S3ServiceException) {
        throw errors.invalidParameter(`Error occurred while GetObject. S3 Error Code: ${e.name}. S3 Error Message: ${e.message}`);
      }
      throw errors.invalidParameter(`Error occurred while GetObject. S3 Error Code: ServiceUnavailable. S3 Error Message: ${(e as Error).message}`);
    }
  }

  close(): void {
    for (const c of this.#clients.values()) c.destroy();
  }
}
