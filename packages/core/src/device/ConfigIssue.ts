/** One problem found in a VM config: the field path (`net[1].vhost-user.socket`) and what is wrong. */
export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}
