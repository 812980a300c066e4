// The door of the tokens room: what the router and the engine simulator share so that neither imports the other —
// the built-in tokenizer and chat template, real models' tokenizers (tokenizer.json + chat template), the token ids
// of a request body, and the chained block-hash scheme that keys the prefix cache and the KV events. A lower room:
// it imports nothing of the project.
export { blockHashes, extraKey, hashBlock, rootHash } from './block-hash.js';
export { HfTokenizer } from './hf-tokenizer.js';
export {
  bodyTokens,
  type ChatOptions,
  chatOptionsOf,
  type ModelTokenizer,
  SIM_TOKENIZER,
  type TemplateMessage,
  templateMessages,
} from './model-tokenizer.js';
export { localTokens } from './request-tokens.js';
export {
  applyChatTemplate,
  BOS_TOKEN_ID,
  type ChatMessage,
  countTokens,
  decodeTokens,
  EOS_TOKEN_ID,
  encodeChat,
  encodePrompt,
  SPECIAL_TOKENS,
  scanTokens,
  specialTokenName,
  tokenize,
  tokenizeWithStrings,
  VOCAB_SIZE,
} from './tokenizer.js';
