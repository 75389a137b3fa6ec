// The usage line in the header: what this person has made and may still make this period.

import { api } from './api.js';
import { $ } from './dom.js';

/** Reads /v1/usage and shows it; says nothing if it cannot be read. */
export async function refreshUsage() {
  try {
    const usage = await api('/v1/usage');
    let text;
    if (usage.exempt || usage.seconds_limit === null) text = `${Math.round(usage.seconds_used)} s made this period`;
    else text = `${Math.round(usage.seconds_left)} s of ${Math.round(usage.seconds_limit)} s left`;
    if (usage.concurrent_limit) text += ` · ${usage.active_videos}/${usage.concurrent_limit} running`;
    $('usage').textContent = text;
  } catch {
    $('usage').textContent = '';
  }
}
