package dev.bulkhead.server.http;

/**
 * One prompt of a {@code /v1/completions} request: text or token ids, and the field that names it in errors
 * ({@code prompt} for a lone prompt, {@code prompt[i]} for the i-th of a list).
 *
 * @param field    how errors name this prompt
 * @param text     the text, or null
 * @param tokenIds the token ids, or null
 */
record CompletionPrompt(String field, String text, int[] tokenIds) {

    CompletionPrompt {
        if ((text == null) == (tokenIds == null)) {
            throw new IllegalArgumentException("a prompt is text or token ids");
        }
    }

    static CompletionPrompt text(String field, String text) {
        return new CompletionPrompt(field, text, null);
    }

    static CompletionPrompt tokens(String field, int[] ids) {
        return new CompletionPrompt(field, null, ids);
    }
}
