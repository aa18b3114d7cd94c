// VpcConfig as AWS completes it: the subnets and security groups are looked up in EC2 (at --aws-endpoint,
// AWS itself by default) and the VpcId is the subnets' VPC; ids EC2 does not know are refused with
// Lambda's wording of EC2's error.
import { DescribeSecurityGroupsCommand, DescribeSubnetsCommand, EC2Client, EC2ServiceException } from '@aws-sdk/client-ec2';
import type { VpcConfig, VpcConfigResponse } from '../api/generated/types.js';
import { errors } from '../shared/errors.js';

export class VpcResolver {
  readonly #endpoint: string | undefined;
  readonly #clients = new Map<string, EC2Client>();

  constructor(options: { endpoint: string | undefined }) {
    this.#endpoint = options.endpoint;
  }

  #client(region: string): EC2Client {
    let c = this.#clients.get(region);
    if (!c) {
      c = new EC2Client({
        region,
        ...(this.#endpoint ? { endpoint: this.#endpoint } : {}),
        // Without an endpoint the SDK's normal credential chain applies; a local endpoint takes any keys.
        ...(this.#endpoint && !process.env['AWS_ACCESS_KEY_ID'] ? { credentials: { accessKeyId: 'test', secretAccessKey: 'test' } } : {}),
      });
      this.#clients.set(region, c);
    }
    return c;
  }

  async #call<T>(operation: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      const code = e instanceof EC2ServiceException ? e.name : 'ServiceUnavailable';
      throw errors.invalidParameter(`Error occurred while ${operation}. EC2 Error Code: ${code}. EC2 Error Message: ${(e as Error).message}`);
    }
  }

  /** The stored VpcConfig for a request's VpcConfig; an empty one (no subnets) detaches the function. */
  async resolve(region: string, config: VpcConfig): Promise<VpcConfigResponse> {
    const subnetIds = config.SubnetIds ?? [];
    const groupIds = config.SecurityGroupIds ?? [];
    let vpcId = '';
    if (subnetIds.length) {
      const out = await this.#call('DescribeSubnets', () => this.#client(region).send(new DescribeSubnetsCommand({ SubnetIds: [...subnetIds] })));
      vpcId = out.Subnets?.[0]?.VpcId ?? '';
    }
    if (groupIds.length) {
      await this.#call('DescribeSecurityGroups', () => this.#client(region).send(new DescribeSecurityGroupsCommand({ GroupIds: [...groupIds] })));
    }
    return { SubnetIds: [...subnetIds], SecurityGroupIds: [...groupIds], Ipv6AllowedForDualStack: config.Ipv6AllowedForDualStack ?? false, VpcId: vpcId };
  }

  close(): void {
    for (const c of this.#clients.values()) c.destroy();
  }
}
