import { Inject, Injectable } from '@nestjs/common';
import type { Caller } from '@app/auth';
import { AtpError } from '@app/common';
import type { ChatRequest, ChatResponse } from '@app/providers';
import { RESPONSES_CLOCK, StoredResponses } from '../../responses-store/stored-responses';
import { fromChatResponse, randomIds, type ResponseIds, responseShell } from './response-object';
import type { ResponsesRequest } from './responses-request';
import { toChatRequest } from './responses-to-chat';
import type { ConversationItem, ResponseObject } from './responses.types';

/** One POST /v1/responses between parsing and answering: what it continues and what it asks. */
export interface ResponseTurn {
  caller: Caller;
  req: ResponsesRequest;
  /** The stored conversation `previous_response_id` continues (empty without it). */
  history: ConversationItem[];
  /** The canonical request the pipeline runs. */
  chat: ChatRequest;
  id: string;
  /** Seconds, as `created_at`. */
  createdAt: number;
  ids: ResponseIds;
}

const notFound = (id: string, param: string | null, code: string, what: string) =>
  new AtpError(404, code, `${what} with id '${id}' not found.`, { param });

/**
 * The Responses door's use case around the pipeline: it resolves `previous_response_id` into
 * the conversation so far, and keeps the finished response (with the conversation it ends) when
 * `store` is set. Responses of other tenants, expired and erased ones are all "not found".
 */
@Injectable()
export class ResponsesService {
  constructor(
    private readonly stored: StoredResponses,
    @Inject(RESPONSES_CLOCK) private readonly now: () => number,
  ) {}

  async begin(caller: Caller, req: ResponsesRequest): Promise<ResponseTurn> {
    let history: ConversationItem[] = [];
    if (req.previous_response_id) {
      const previous = await this.stored.find<ResponseObject, ConversationItem>(
        caller.tenantId,
        req.previous_response_id,
      );
      if (!previous) {
        throw notFound(
          req.previous_response_id,
          'previous_response_id',
          'previous_response_not_found',
          'Previous response',
        );
      }
      history = previous.conversation;
    }
    const ids = randomIds;
    return {
      caller,
      req,
      history,
      chat: toChatRequest(req, history),
      id: ids.next('resp'),
      createdAt: Math.floor(this.now() / 1000),
      ids,
    };
  }

  /** The `response` object a call starts from (the model is the catalog model that answers). */
  shell(turn: ResponseTurn, model: string): ResponseObject {
    return responseShell(turn.req, turn.id, turn.createdAt, model);
  }

  /** A completed call as the `response` object, kept when `store` is set. */
  async complete(turn: ResponseTurn, model: string, res: ChatResponse): Promise<ResponseObject> {
    const response = fromChatResponse(this.shell(turn, model), res, turn.ids);
    await this.keep(turn, response);
    return response;
  }

  /**
   * Stores the response with the conversation it ends (history, this turn's input, its output),
   * before the client hears of it: a `previous_response_id` sent right after works.
   */
  async keep(turn: ResponseTurn, response: ResponseObject): Promise<void> {
    if (!turn.req.store) return;
    const conversation: ConversationItem[] = [...turn.history, ...turn.req.input, ...response.output];
    await this.stored.save(turn.caller.tenantId, response.id, { response, conversation });
  }

  async get(caller: Caller, id: string): Promise<ResponseObject> {
    const found = await this.stored.find<ResponseObject, ConversationItem>(caller.tenantId, id);
    if (!found) throw notFound(id, 'response_id', 'response_not_found', 'Response');
    return found.response;
  }

  async delete(caller: Caller, id: string): Promise<{ id: string; object: 'response'; deleted: true }> {
    if (!(await this.stored.delete(caller.tenantId, id))) {
      throw notFound(id, 'response_id', 'response_not_found', 'Response');
    }
    return { id, object: 'response', deleted: true };
  }
}
