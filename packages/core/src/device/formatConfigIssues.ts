import type { ConfigIssue } from './ConfigIssue.ts';

/** One line for an error message: `path: message; path: message`. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('; ');
}
