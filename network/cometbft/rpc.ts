/** A call to a CometBFT node's JSON-RPC over HTTP GET (`status`, `commit?height=5`, …): its result, or an error naming the call. */
export async function cometRpc<T>(url: string, call: string, timeoutMs = 5000): Promise<T> {
    const response = await fetch(`${url.replace(/\/$/, '')}/${call}`, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.json() as { result?: T; error?: { message?: string; data?: string } };
    if (!body.result) {
        throw new Error(`${call}: ${body.error?.message ?? response.status} ${body.error?.data ?? ''}`.trim());
    }
    return body.result;
}
