import { FrontendReq } from './FrontendReq.ts';

/** The spec name of a frontend request (`SET_MEM_TABLE`), or `request <n>` for an unknown code. */
export function requestName(request: number): string {
  return FrontendReq[request] ?? `request ${request}`;
}
