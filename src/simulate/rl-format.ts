import type { Agent } from './rl-agent.js';
import { pyFloat, pyIntList } from './python-json.js';

/** One record of the old flat stats format (compact, no reward fields), as json.dump writes it. */
export function flatRecord(a: Agent): string {
  return (
    `{"step": ${a.step}, "x": ${a.x}, "y": ${a.y}, "map": ${a.map.id}, "max_map_progress": ${a.maxChain + 1}, ` +
    `"last_action": ${a.lastAction}, "pcount": ${a.partySize}, "levels": ${pyIntList(a.levels)}, ` +
    `"levels_sum": ${a.levelsSum}, "ptypes": ${pyIntList(a.species)}, "hp": ${pyFloat(a.health)}, ` +
    `"coord_count": ${a.coords}, "deaths": ${a.deaths}, "badge": ${a.badges}, ` +
    `"event": ${pyFloat(a.eventFlags)}, "healr": ${a.healed}}`
  );
}

/** Six list items at json.dump(indent=2) depth 4 (inside record → player_status → list). */
function indentedList(values: readonly number[]): string {
  const pad = '\n        ';
  return `[${pad}${values[0]},${pad}${values[1]},${pad}${values[2]},${pad}${values[3]},${pad}${values[4]},${pad}${values[5]}\n      ]`;
}

/** One record of the new nested stats format, laid out exactly as json.dump(indent=2) inside the array. */
export function nestedRecord(a: Agent, totalSteps: number): string {
  return `  {
    "step": ${a.step},
    "total_steps": ${totalSteps},
    "position": {
      "x": ${a.x},
      "y": ${a.y},
      "map": ${a.map.id}
    },
    "rewards": {
      "total": ${pyFloat(a.total)},
      "step": ${pyFloat(a.stepReward)},
      "components": {
        "event": ${pyFloat(a.event)},
        "level": ${pyFloat(a.level)},
        "heal": ${pyFloat(a.heal)},
        "badge": ${pyFloat(a.badge)},
        "explore": ${pyFloat(a.explore)},
        "dead": ${pyFloat(a.dead)},
        "stuck": ${pyFloat(a.stuck)}
      }
    },
    "player_status": {
      "health": ${pyFloat(a.health)},
      "levels": ${indentedList(a.levels)},
      "levels_sum": ${a.levelsSum},
      "badges": ${a.badges},
      "pokemon_count": ${a.partySize},
      "pokemon_types": ${indentedList(a.species)}
    },
    "actions": {
      "last_action": ${a.lastAction}
    },
    "statistics": {
      "deaths": ${a.deaths},
      "exploration_coords": ${a.coords},
      "map_progress": ${a.maxChain + 1},
      "healing_reward": ${a.healed},
      "event_progress": ${pyFloat(a.eventFlags)}
    }
  }`;
}
