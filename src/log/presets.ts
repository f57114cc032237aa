import {
  aBoolean,
  anInteger,
  aNumber,
  aString,
  checkAlignedWithUids,
  checkFields,
  describe,
  either,
  listOf,
  nothing,
  oneOf,
  type EventSchema,
  type FieldSpec,
} from './schema.js';

/** One FileTAO storage-validator event (a line of `events.json`); per-uid lists are aligned with `uids`. */
export interface FileTaoEvent {
  task_name: 'Store' | 'Challenge' | 'Retrieve' | 'SetWeights';
  block: number;
  step_length: number;
  uids: number[];
  rewards: number[];
  /** null where a miner gave no time. */
  completion_times: (number | null)[];
  successful: boolean[];
  task_status_codes: number[];
  task_status_messages: string[];
  /** -1 or "" when there is no best miner (SetWeights). */
  best_uid: number | '';
  best_hotkey: string;
  /** SetWeights events: the weights, indexed by uid. */
  set_weights?: number[] | null;
  /** Never filled by the validator in practice: null or []. */
  moving_averaged_scores?: number[] | null;
}

const fileTaoFields: Record<string, FieldSpec> = {
  task_name: oneOf(['Store', 'Challenge', 'Retrieve', 'SetWeights']),
  block: anInteger,
  step_length: aNumber,
  uids: listOf(anInteger, 'integers'),
  rewards: { ...listOf(aNumber, 'numbers'), perUid: true },
  completion_times: { ...listOf(either(aNumber, nothing), 'numbers or null'), perUid: true },
  successful: { ...listOf(aBoolean, 'booleans'), perUid: true },
  task_status_codes: { ...listOf(anInteger, 'integers'), perUid: true },
  task_status_messages: { ...listOf(aString, 'strings'), perUid: true },
  best_uid: either(anInteger, oneOf([''], '""')),
  best_hotkey: aString,
  set_weights: { ...either(listOf(aNumber, 'numbers'), nothing), optional: true },
  moving_averaged_scores: { ...either(listOf(aNumber, 'numbers'), nothing), optional: true },
};

/**
 * FileTAO events. SetWeights events carry the whole uid range in `uids` and one status entry, so the
 * per-uid alignment is checked for the other tasks only; SetWeights must carry `set_weights`.
 */
export const fileTaoEvents: EventSchema<FileTaoEvent> = {
  name: 'FileTaoEvent',
  check(event) {
    const setWeights = (event as { task_name?: unknown } | null)?.task_name === 'SetWeights';
    const problems = checkFields(event, fileTaoFields, setWeights);
    if (setWeights && problems.length === 0) {
      const weights = (event as { set_weights?: unknown }).set_weights;
      if (!Array.isArray(weights)) {
        problems.push(
          `set_weights: expected a list of numbers in a SetWeights event, found ${describe(weights)}`,
        );
      }
    }
    return problems;
  },
};

export type OpenValidatorsEventName =
  | 'augment'
  | 'followup0'
  | 'followup1'
  | 'followup2'
  | 'followup3'
  | 'answer0'
  | 'answer1'
  | 'answer2'
  | 'answer3';

/**
 * One OpenValidators event (loguru's `record.extra`, or a wandb history row). Besides the fields below
 * it holds, for each reward model X, a raw `X` and an `X_normalized` vector aligned with `uids`; raw
 * vectors may contain NaN.
 */
export interface OpenValidatorsEvent {
  name: OpenValidatorsEventName;
  block: number;
  gating_loss: number;
  prompt: string;
  step_length: number;
  best: string;
  uids: number[];
  completions: string[];
  completion_times: number[];
  rewards: number[];
  set_weights?: number[] | null;
  [rewardModel: string]: unknown;
}

const openValidatorsFields: Record<string, FieldSpec> = {
  name: oneOf(
    [
      'augment',
      'followup0',
      'followup1',
      'followup2',
      'followup3',
      'answer0',
      'answer1',
      'answer2',
      'answer3',
    ],
    'one of augment, followup0…followup3, answer0…answer3',
  ),
  block: anInteger,
  gating_loss: aNumber,
  prompt: aString,
  step_length: aNumber,
  best: aString,
  uids: listOf(anInteger, 'integers'),
  completions: listOf(aString, 'strings'),
  completion_times: listOf(aNumber, 'numbers'),
  rewards: listOf(aNumber, 'numbers'),
  set_weights: { ...either(listOf(aNumber, 'numbers'), nothing), optional: true },
};

/** Lists that are indexed by uid over the whole network, not aligned with this event's `uids`. */
const NOT_PER_UID = new Set(['uids', 'set_weights', 'neuron_weights', 'neuron_hotkeys']);
const REWARD_VECTOR = /(_reward_model|_filter|_normalized)$/;
const numbers = listOf(aNumber, 'numbers');

/** OpenValidators events: every list except network-wide ones must be aligned with `uids`. */
export const openValidatorsEvents: EventSchema<OpenValidatorsEvent> = {
  name: 'OpenValidatorsEvent',
  check(event) {
    const problems = checkFields(event, openValidatorsFields, true);
    if (event === null || typeof event !== 'object' || Array.isArray(event)) return problems;
    const record = event as Record<string, unknown>;
    for (const [field, value] of Object.entries(record)) {
      if (!REWARD_VECTOR.test(field) || openValidatorsFields[field]) continue;
      const verdict = numbers.valid(value);
      if (verdict === false)
        problems.push(`${field}: expected ${numbers.expected}, found ${describe(value)}`);
      else if (verdict !== true) {
        problems.push(
          `${field}[${verdict.index}]: expected ${verdict.expected}, found ${describe(verdict.found)}`,
        );
      }
    }
    const lists = Object.keys(record).filter(
      (field) => Array.isArray(record[field]) && !NOT_PER_UID.has(field),
    );
    problems.push(...checkAlignedWithUids(record, lists));
    return problems;
  },
};
