import type { AgentResult } from '../agents/index.ts';
import type { Grade } from '../grading/index.ts';
import type { Outcome } from '../store/index.ts';

/**
 * The attempt's final outcome, decided here alone: an episode that never ran is an infra error;
 * a grade is the patch's verdict, except that the model's own trouble explains an unresolved
 * attempt better than "empty patch" or "unresolved".
 */
export function decideOutcome(episode: Pick<AgentResult, 'exit'> | undefined, patch: string | null, grade: Pick<Grade, 'outcome'> | undefined): Outcome {
  if (!episode || !grade) return 'infra_error';
  // Tampering is the patch's doing whatever the episode's trouble: it is never hidden behind it.
  if (grade.outcome === 'resolved' || grade.outcome === 'infra_error' || grade.outcome === 'tampered') return grade.outcome;
  if (episode.exit === 'model_error') return 'model_error';
  if (episode.exit === 'malformed' || (episode.exit === 'format_errors' && !patch)) return 'malformed';
  return grade.outcome;
}
