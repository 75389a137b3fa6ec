// The characters panel: make a character from a clip, list yours, delete one, and put its
// name in the prompt (a prompt that names a character uses it). All through the public API:
// POST/GET/DELETE /v1/videos/characters.

import { api } from './api.js';
import { $, el, errorText, when } from './dom.js';

/** Wires the panel; `load()` fills the list (call it after signing in). */
export function createCharacters() {
  async function load() {
    try {
      const page = await api('/v1/videos/characters?limit=100');
      render(page.data);
    } catch (error) {
      $('character-error').textContent = errorText(error);
    }
  }

  function render(characters) {
    $('characters-empty').hidden = characters.length > 0;
    $('characters').replaceChildren(
      ...characters.map((character) => {
        const insert = el('button', { type: 'button' }, 'Insert in prompt');
        insert.addEventListener('click', () => insertName(character.name));
        const remove = el('button', { type: 'button', class: 'danger' }, 'Delete');
        remove.addEventListener('click', async () => {
          try {
            await api(`/v1/videos/characters/${encodeURIComponent(character.id)}`, { method: 'DELETE' });
            await load();
          } catch (error) {
            $('character-error').textContent = errorText(error);
          }
        });
        return el('li', { dataset: { id: character.id } },
          el('strong', {}, character.name), ` · made ${when(character.created_at)} `, insert, remove);
      }),
    );
  }

  function insertName(name) {
    const prompt = $('prompt');
    const at = prompt.selectionStart ?? prompt.value.length;
    const before = prompt.value.slice(0, at);
    const spaced = before && !/\s$/.test(before) ? ` ${name} ` : `${name} `;
    prompt.value = before + spaced + prompt.value.slice(prompt.selectionEnd ?? at);
    prompt.dispatchEvent(new Event('input'));
    prompt.focus();
  }

  $('character-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    $('character-error').textContent = '';
    const name = $('character-name').value.trim();
    const file = $('character-file').files[0];
    if (!name || !file) {
      $('character-error').textContent = 'Give the character a name and choose a clip of it.';
      return;
    }
    const form = new FormData();
    form.append('name', name);
    form.append('video', file, file.name);
    $('character-create').disabled = true;
    try {
      await api('/v1/videos/characters', { method: 'POST', body: form });
      $('character-name').value = '';
      $('character-file').value = '';
      await load();
    } catch (error) {
      $('character-error').textContent = errorText(error);
    } finally {
      $('character-create').disabled = false;
    }
  });

  return { load };
}
