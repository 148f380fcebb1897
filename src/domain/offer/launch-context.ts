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
  /**
   * A mono scheduler's launch: its reservations carry no `namespace` label, as the reference's
   * mono schedulers write them (§2.2); they belong to the default service (`reservation-owner.ts`).
   * @default false
   */
  readonly mono?: boolean;
  /** The service's user (`scheduler.user`): tasks of a pod that names none run as it. @default the framework's user */
  readonly user?: string;
}
