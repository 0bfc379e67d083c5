import { isJsonObject, type JsonObject, type JsonValue } from './json.js';

/** Slack's documented Block Kit limits; a message that breaks one is refused with `invalid_blocks`. */
export const blockKitLimits = {
  blocksPerMessage: 50,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  url: 3000,
  markdownText: 12000,
  messageText: 40000,
};

const blockTypes = new Set([
  'section',
  'divider',
  'header',
  'context',
  'actions',
  'image',
  'input',
  'rich_text',
  'file',
  'video',
  'markdown',
]);

type Problems = string[];

function at(pointer: string, message: string): string {
  return `${message} [json-pointer:${pointer}]`;
}

function checkText(
  value: JsonValue | undefined,
  pointer: string,
  max: number,
  problems: Problems,
  plainOnly = false,
): void {
  if (!isJsonObject(value)) {
    problems.push(at(pointer, 'must provide an object'));
    return;
  }
  const allowed = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
  if (typeof value.type !== 'string' || !allowed.includes(value.type)) {
    problems.push(at(`${pointer}/type`, `must be one of ${allowed.join(', ')}`));
  }
  if (typeof value.text !== 'string' || value.text.length === 0) {
    problems.push(at(`${pointer}/text`, 'must be more than 0 characters'));
  } else if (value.text.length > max) {
    problems.push(at(`${pointer}/text`, `must be less than ${max + 1} characters`));
  }
}

function checkLength(value: JsonValue | undefined, pointer: string, max: number, problems: Problems): void {
  if (typeof value === 'string' && value.length > max) {
    problems.push(at(pointer, `must be less than ${max + 1} characters`));
  }
}

function checkElement(element: JsonValue, pointer: string, problems: Problems): void {
  if (!isJsonObject(element)) {
    problems.push(at(pointer, 'must provide an object'));
    return;
  }
  checkLength(element.action_id, `${pointer}/action_id`, blockKitLimits.actionId, problems);
  if (element.type === 'button') {
    checkText(element.text, `${pointer}/text`, blockKitLimits.buttonText, problems, true);
    checkLength(element.value, `${pointer}/value`, blockKitLimits.buttonValue, problems);
    checkLength(element.url, `${pointer}/url`, blockKitLimits.url, problems);
    if (element.style !== undefined && element.style !== 'primary' && element.style !== 'danger') {
      problems.push(at(`${pointer}/style`, 'must be one of primary, danger'));
    }
  }
}

function checkList(
  value: JsonValue | undefined,
  pointer: string,
  max: number,
  problems: Problems,
  each: (item: JsonValue, pointer: string) => void,
): void {
  if (!Array.isArray(value) || value.length === 0) {
    problems.push(at(pointer, 'must provide at least 1 item'));
    return;
  }
  if (value.length > max) problems.push(at(pointer, `no more than ${max} items allowed`));
  value.forEach((item, i) => each(item, `${pointer}/${i}`));
}

function checkBlock(block: JsonObject, pointer: string, problems: Problems): void {
  checkLength(block.block_id, `${pointer}/block_id`, blockKitLimits.blockId, problems);
  switch (block.type) {
    case 'section':
      if (block.text === undefined && block.fields === undefined) {
        problems.push(at(pointer, 'must provide either text or fields'));
      }
      if (block.text !== undefined) {
        checkText(block.text, `${pointer}/text`, blockKitLimits.sectionText, problems);
      }
      if (block.fields !== undefined) {
        checkList(block.fields, `${pointer}/fields`, blockKitLimits.sectionFields, problems, (field, p) =>
          checkText(field, p, blockKitLimits.sectionFieldText, problems),
        );
      }
      if (block.accessory !== undefined) checkElement(block.accessory, `${pointer}/accessory`, problems);
      break;
    case 'header':
      checkText(block.text, `${pointer}/text`, blockKitLimits.headerText, problems, true);
      break;
    case 'context':
      checkList(
        block.elements,
        `${pointer}/elements`,
        blockKitLimits.contextElements,
        problems,
        () => undefined,
      );
      break;
    case 'actions':
      checkList(
        block.elements,
        `${pointer}/elements`,
        blockKitLimits.actionsElements,
        problems,
        (element, p) => checkElement(element, p, problems),
      );
      break;
    case 'markdown':
      checkLength(block.text, `${pointer}/text`, blockKitLimits.markdownText, problems);
      break;
  }
}

/** The problems Slack would list in `errors` for these blocks; empty when they are valid. */
export function blockProblems(blocks: JsonValue): Problems {
  const problems: Problems = [];
  if (!Array.isArray(blocks)) return [at('/blocks', 'must provide an array')];
  if (blocks.length > blockKitLimits.blocksPerMessage) {
    problems.push(at('/blocks', `no more than ${blockKitLimits.blocksPerMessage} items allowed`));
  }
  blocks.forEach((block, i) => {
    const pointer = `/blocks/${i}`;
    if (!isJsonObject(block) || typeof block.type !== 'string' || !blockTypes.has(block.type)) {
      problems.push(at(pointer, 'unsupported type'));
      return;
    }
    checkBlock(block, pointer, problems);
  });
  return problems;
}
