// Signing in and out: the sign-in form, the header's name and sign-out button, and the current
// session, which is owned here (`isSignedIn()`, `isAdmin()`). What the rest of the studio does
// when someone signs in or out is up to the callbacks the page passes in.

import { currentSession, signIn, signOut, whenSignedOut } from './api.js';
import { $, errorText } from './dom.js';

/**
 * Wires the sign-in form and the sign-out button. `onSignedIn(session)` shows the studio and
 * loads its data (it may return a promise); `onSignedOut()` stops whatever was running.
 */
export function createSession({ onSignedIn, onSignedOut }) {
  let session = null;

  function showSignIn(reason = '') {
    onSignedOut();
    session = null;
    $('loading').hidden = true;
    $('nav').hidden = true;
    $('who').hidden = true;
    for (const id of ['view-create', 'view-history', 'view-admin', 'watch']) $(id).hidden = true;
    $('signin').hidden = false;
    $('signin-error').textContent = reason;
    $('token').value = '';
    $('token').focus();
  }

  function showStudio(signedIn) {
    session = signedIn;
    $('loading').hidden = true;
    $('signin').hidden = true;
    $('nav').hidden = false;
    $('who').hidden = false;
    $('principal').textContent = signedIn.principal;
    $('admin-tab').hidden = !signedIn.admin;
    return onSignedIn(signedIn);
  }

  whenSignedOut((error) => showSignIn(`Your session ended: ${error.message}`));
  $('signin-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    const token = $('token').value.trim();
    if (!token) {
      $('signin-error').textContent = 'Paste an access token first.';
      return;
    }
    $('signin-error').textContent = '';
    try {
      const signedIn = await signIn(token);
      $('token').value = '';
      const ready = showStudio(signedIn); // shows the studio at once, then loads its data
      $('prompt').focus();
      await ready;
    } catch (error) {
      $('signin-error').textContent = errorText(error);
      $('token').select();
    }
  });
  $('sign-out').addEventListener('click', async () => {
    await signOut().catch(() => {});
    showSignIn('You are signed out.');
  });

  /** Shows the studio if the browser still has a session, else the sign-in form. */
  async function resume() {
    try {
      const found = await currentSession();
      if (found.signed_in) await showStudio(found);
      else showSignIn(found.reason ? `Your session ended: ${found.reason}` : '');
    } catch (error) {
      showSignIn(errorText(error));
    }
  }

  return {
    resume,
    isSignedIn: () => session !== null,
    isAdmin: () => Boolean(session?.admin),
  };
}
