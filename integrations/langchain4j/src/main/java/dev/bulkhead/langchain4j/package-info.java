/**
 * LangChain4j chat models over an in-process Bulkhead engine or router: {@link dev.bulkhead.langchain4j.BulkheadChatModel}
 * and {@link dev.bulkhead.langchain4j.BulkheadStreamingChatModel}.
 */
package dev.bulkhead.langchain4j;
