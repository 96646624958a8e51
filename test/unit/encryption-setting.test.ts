/** The RPC encryption switch as a config key (cinder.rpc.encryption, rpcEncryption): values, env conflicts. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyEncryptionSetting, encryptionEnabled } from '../../src/rpc/encryption.js';

test('a config key sets the switch for the process and its children; bad values and env conflicts are refused', () => {
  const env: NodeJS.ProcessEnv = {};
  applyEncryptionSetting(undefined, 'cinder.rpc.encryption', env);
  applyEncryptionSetting('', 'cinder.rpc.encryption', env);
  assert.equal(env.CINDER_RPC_ENCRYPTION, undefined, 'unset keys change nothing');
  assert.equal(encryptionEnabled(env), true, 'on by default');
  applyEncryptionSetting('off', 'cinder.rpc.encryption', env);
  assert.equal(env.CINDER_RPC_ENCRYPTION, 'off');
  assert.equal(encryptionEnabled(env), false);
  applyEncryptionSetting('false', 'rpcEncryption', env);
  assert.equal(env.CINDER_RPC_ENCRYPTION, 'off', 'agreeing with the env is fine');
  assert.throws(
    () => applyEncryptionSetting('on', 'cinder.rpc.encryption', env),
    /cinder\.rpc\.encryption=on disagrees with CINDER_RPC_ENCRYPTION=off in the environment/,
  );
  assert.throws(
    () => applyEncryptionSetting('maybe', 'rpcEncryption', {}),
    /rpcEncryption='maybe' is neither on nor off/,
  );
});
