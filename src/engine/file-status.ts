import type { ProblemKind } from '../formats/problems.js';
import type { Profile } from '../formats/profile.js';

export type FileStatus = 'ok' | 'empty' | 'problems' | 'unreadable';

/** A file's status from its problems and good records. */
export function fileStatus(problems: Partial<Record<ProblemKind, number>>, rows: number): FileStatus {
  return problems.unreadable
    ? 'unreadable'
    : Object.keys(problems).length
      ? 'problems'
      : rows === 0
        ? 'empty'
        : 'ok';
}

/** A file's profile from its records' votes. */
export function majorityProfile(votes: Record<Profile, number>): Profile {
  let best: Profile = 'generic';
  for (const profile of ['filetao', 'openvalidators', 'rl'] as const)
    if (votes[profile] > votes[best]) best = profile;
  if (best === 'generic' && votes.generic === 0) return 'generic';
  // A validator log with a few generic-looking rows is still a validator log.
  for (const profile of ['filetao', 'openvalidators', 'rl'] as const)
    if (votes[profile] > 0 && votes[profile] >= votes.generic / 10 && votes[profile] >= votes[best])
      best = profile;
  return best;
}
