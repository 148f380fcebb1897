/** What a launch needs to know beyond the spec: whose it is, how to reserve, and where ids come from. */
export interface LaunchContext {
  readonly service: string;
  readonly sanitizedService: string;
  readonly frameworkId: string;
  readonly frameworkName: string;
  readonly role: string;
  readonly principal: string;
  readonly configId: string;
  readonly newId: () => string;
}
