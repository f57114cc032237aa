import type { Random } from './random.js';

/**
 * Text for the OpenValidators simulation: prompts built from a topic and a context paragraph, miner
 * completions that are on topic, off topic, or one of a few popular spam answers repeated across
 * miners (so duplicate and blacklist analyses have something to find).
 */
const TOPICS = [
  'photosynthesis',
  'the French Revolution',
  'quantum entanglement',
  'the water cycle',
  'gradient descent',
  'the Roman Republic',
  'plate tectonics',
  'the immune system',
  'public key cryptography',
  'the Industrial Revolution',
  'black holes',
  'supply and demand',
  'the printing press',
  'neural networks',
  'ocean acidification',
  'the Silk Road',
  'vaccination',
  'renewable energy',
  'the Treaty of Versailles',
  'protein folding',
  'inflation',
  'the Apollo program',
  'coral reefs',
  'the Byzantine Empire',
];

const SUBJECTS = [
  'Researchers',
  'Historians',
  'Engineers',
  'Scientists',
  'Economists',
  'Students',
  'Critics',
];
const VERBS = ['describe', 'explain', 'question', 'emphasize', 'measure', 'compare', 'debate', 'model'];
const OBJECTS = [
  'long-term change',
  'feedback loops',
  'competing explanations',
  'the evidence collected so far',
  'everyday life',
  'the limits of current methods',
  'causes and consequences',
  'a surprising number of edge cases',
];
const LINKS = [
  'Moreover',
  'However',
  'In particular',
  'As a result',
  'For example',
  'Historically',
  'In practice',
];
const OPENERS = [
  'In short,',
  'Put simply,',
  'Step by step:',
  'The key point is that',
  'To answer this,',
  'Overall,',
];
const QUESTIONS: readonly ((topic: string, object: string) => string)[] = [
  (topic, object) => `What role did ${topic} play in ${object}?`,
  (topic, object) => `How does ${topic} relate to ${object}?`,
  (topic, object) => `Why is ${topic} important for understanding ${object}?`,
  (topic, object) => `What evidence links ${topic} to ${object}?`,
  (topic) => `How might ${topic} change in the next decade?`,
  (topic) => `What are the main consequences of ${topic}?`,
];

/** Popular canned answers many low-effort miners return verbatim. */
export const SPAM_COMPLETIONS = [
  'I cannot answer that.',
  'The answer is 42.',
  'Here is a detailed explanation of the topic.',
  'As an AI language model, I cannot provide that information.',
  'Summarize the text.',
  'What role did the treaty play?',
  'Sorry, I do not understand the question.',
  'Thank you for your question!',
];

export function pickTopic(random: Random): string {
  return random.pick(TOPICS);
}

function sentence(random: Random, topic: string, continues: boolean): string {
  const subject = random.pick(SUBJECTS);
  const start = continues ? `${random.pick(LINKS)}, ${subject.toLowerCase()}` : subject;
  return `${start} ${random.pick(VERBS)} the link between ${topic} and ${random.pick(OBJECTS)}.`;
}

/** A context paragraph of `count` sentences about `topic`. */
export function paragraph(random: Random, topic: string, count: number): string {
  let text = sentence(random, topic, false);
  for (let i = 1; i < count; i++) text += ` ${sentence(random, topic, true)}`;
  return text;
}

/** The prompt the validator sends for a step named augment / followupN / answerN. */
export function prompt(random: Random, name: string, topic: string, context: string): string {
  if (name === 'augment') {
    return `${context}\n\nSummarize the preceding context in ${random.intBetween(1, 3)} sentences.`;
  }
  if (name.startsWith('followup')) {
    return `${context}\n\nAsk a single relevant and insightful question about the preceding context about ${topic}.`;
  }
  return `${context}\n\nAnswer the question step by step and explain your thoughts.`;
}

/** A genuine answer: on topic, length and care growing with the miner's quality. */
export function goodCompletion(random: Random, name: string, topic: string, quality: number): string {
  if (name.startsWith('followup')) {
    return random.pick(QUESTIONS)(topic, random.pick(OBJECTS));
  }
  const sentences = 1 + Math.floor(quality * 4 * random.next());
  let text = `${random.pick(OPENERS)} ${paragraph(random, topic, sentences)}`;
  if (quality > 0.7 && random.chance(0.3)) text += `\n\n${paragraph(random, topic, 1)}`;
  return text;
}

/** A plausible but off-topic answer (fails the relevance filter). */
export function offTopicCompletion(random: Random): string {
  return paragraph(random, random.pick(TOPICS), random.intBetween(1, 2));
}
