// The official SDKs through format conversion: the Anthropic SDK against
// an OpenAI-chat-only site, the OpenAI SDK's chat against a Claude-only
// site, and Responses (one turn, a stream, a second turn by
// previous_response_id, a function call) against the chat-only site.
// BASE, KEY, and CHAT_FAKE (the chat-only fake relay, to switch its reply
// variants) come from the environment. One line per check.
import Anthropic from "@anthropic-ai/sdk";
import OpenAI from "openai";

const anthropic = new Anthropic({ baseURL: process.env.BASE,
    apiKey: process.env.KEY, maxRetries: 0 });
const openai = new OpenAI({ baseURL: process.env.BASE + "/v1",
    apiKey: process.env.KEY, maxRetries: 0 });
let failed = 0;
function check(name, cond, why) {
	if (cond) console.log("ok " + name);
	else { failed++; console.log("not ok " + name + ": " + why); }
}
async function variant(v) {
	const r = await fetch(process.env.CHAT_FAKE + "/__fake/state", {
	    method: "POST", body: JSON.stringify({ config: { variant: v } }) });
	if (!r.ok) throw new Error("fake relay state: HTTP " + r.status);
}
const tools = [{ name: "f", description: "a function",
    input_schema: { type: "object", properties: { a: { type: "number" } } } }];

try {
	await variant("");
	// Claude client, OpenAI-chat-only site.
	const m = await anthropic.messages.create({ model: "claude-via-chat",
	    max_tokens: 100, system: "be brief",
	    messages: [{ role: "user", content: "hello fake relay" }] });
	check("messages via chat", m.type === "message" &&
	    m.content[0].type === "text" &&
	    m.content[0].text === "echo: hello fake relay", JSON.stringify(m));
	check("messages via chat: stop_reason", m.stop_reason === "end_turn",
	    m.stop_reason);
	check("messages via chat: usage", m.usage.input_tokens === 5 &&
	    m.usage.output_tokens === 4, JSON.stringify(m.usage));

	const s = anthropic.messages.stream({ model: "claude-via-chat",
	    max_tokens: 100,
	    messages: [{ role: "user", content: "hello fake relay" }] });
	let text = "";
	s.on("text", (t) => { text += t; });
	const fm = await s.finalMessage();
	check("messages stream via chat: text", text === "echo: hello fake relay",
	    text);
	check("messages stream via chat: final", fm.stop_reason === "end_turn" &&
	    fm.usage.output_tokens === 4, JSON.stringify(fm));

	await variant("tool_calls");
	const t = await anthropic.messages.create({ model: "claude-via-chat",
	    max_tokens: 100, tools,
	    messages: [{ role: "user", content: "call f" }] });
	const tu = t.content.find((b) => b.type === "tool_use");
	check("messages tools via chat", tu && tu.name === "f" &&
	    tu.input.a === 1 && t.stop_reason === "tool_use", JSON.stringify(t));

	const ts = anthropic.messages.stream({ model: "claude-via-chat",
	    max_tokens: 100, tools,
	    messages: [{ role: "user", content: "call f" },
	    { role: "assistant", content: [{ type: "tool_use", id: "call_0",
	      name: "f", input: { a: 0 } }] },
	    { role: "user", content: [{ type: "tool_result",
	      tool_use_id: "call_0", content: "zero" },
	      { type: "text", text: "again" }] }] });
	let json = "";
	ts.on("inputJson", (delta) => { json += delta; });
	const tm = await ts.finalMessage();
	const tb = tm.content.find((b) => b.type === "tool_use");
	check("messages stream tools via chat", tb && tb.name === "f" &&
	    tb.input.a === 1 && tm.stop_reason === "tool_use",
	    JSON.stringify(tm));
	check("messages stream tools via chat: input_json deltas",
	    json === '{"a":1}', json);

	// OpenAI chat client, Claude-only site.
	const c = await openai.chat.completions.create({
	    model: "claude-3-5-sonnet-20241022",
	    messages: [{ role: "system", content: "be brief" },
	    { role: "user", content: "hello fake relay" }] });
	check("chat via messages", c.choices[0].message.content ===
	    "echo: hello fake relay" && c.choices[0].finish_reason === "stop",
	    JSON.stringify(c));
	check("chat via messages: usage", c.usage.prompt_tokens === 5 &&
	    c.usage.completion_tokens === 4, JSON.stringify(c.usage));
	const cs = await openai.chat.completions.create({
	    model: "claude-3-5-sonnet-20241022", stream: true,
	    stream_options: { include_usage: true },
	    messages: [{ role: "user", content: "hello fake relay" }] });
	let ctext = "", cusage = null, finish = null;
	for await (const ch of cs) {
		if (ch.choices.length > 0) {
			if (ch.choices[0].delta.content)
				ctext += ch.choices[0].delta.content;
			if (ch.choices[0].finish_reason)
				finish = ch.choices[0].finish_reason;
		}
		if (ch.usage) cusage = ch.usage;
	}
	check("chat stream via messages", ctext === "echo: hello fake relay" &&
	    finish === "stop", ctext + " / " + finish);
	check("chat stream via messages: usage", cusage &&
	    cusage.completion_tokens === 4, JSON.stringify(cusage));

	// Responses client, chat-only site.
	await variant("");
	const r1 = await openai.responses.create({ model: "gpt-4o-mini",
	    input: "hello fake relay" });
	check("responses via chat", r1.output_text === "echo: hello fake relay" &&
	    r1.status === "completed", JSON.stringify(r1));
	check("responses via chat: usage", r1.usage.input_tokens === 3 &&
	    r1.usage.output_tokens === 4, JSON.stringify(r1.usage));
	const r2 = await openai.responses.create({ model: "gpt-4o-mini",
	    previous_response_id: r1.id, input: "second turn" });
	check("responses second turn via chat", r2.output_text ===
	    "echo: second turn", JSON.stringify(r2));
	check("responses second turn carries the first", r2.usage.input_tokens ===
	    9, JSON.stringify(r2.usage));

	const rs = openai.responses.stream({ model: "gpt-4o-mini",
	    input: [{ role: "user", content: "hello fake relay" }] });
	let rtext = "", kinds = new Set();
	for await (const ev of rs) {
		kinds.add(ev.type);
		if (ev.type === "response.output_text.delta") rtext += ev.delta;
	}
	const rf = await rs.finalResponse();
	check("responses stream via chat", rtext === "echo: hello fake relay" &&
	    rf.output[0].content[0].text === "echo: hello fake relay",
	    rtext + " / " + JSON.stringify(rf));
	check("responses stream via chat: events", kinds.has("response.created") &&
	    kinds.has("response.completed") &&
	    kinds.has("response.output_item.done"), [...kinds].join(","));
	const r3 = await openai.responses.create({ model: "gpt-4o-mini",
	    previous_response_id: rf.id, input: "after the stream" });
	check("responses turn after a stream", r3.output_text ===
	    "echo: after the stream" && r3.usage.input_tokens === 10,
	    JSON.stringify(r3.usage));

	await variant("tool_calls");
	const rt = await openai.responses.create({ model: "gpt-4o-mini",
	    input: "call f", tools: [{ type: "function", name: "f",
	    parameters: { type: "object", properties: {} } }] });
	const fc = rt.output.find((o) => o.type === "function_call");
	check("responses function call via chat", fc && fc.name === "f" &&
	    JSON.parse(fc.arguments).a === 1, JSON.stringify(rt.output));
	const rts = openai.responses.stream({ model: "gpt-4o-mini",
	    input: "call f", tools: [{ type: "function", name: "f",
	    parameters: { type: "object", properties: {} } }] });
	let args = "";
	for await (const ev of rts) {
		if (ev.type === "response.function_call_arguments.delta")
			args += ev.delta;
	}
	const rtf = await rts.finalResponse();
	check("responses stream function call via chat", args === '{"a":1}' &&
	    rtf.output.some((o) => o.type === "function_call"), args);
	const fc2 = rtf.output.find((o) => o.type === "function_call");
	await variant("");
	const r4 = await openai.responses.create({ model: "gpt-4o-mini",
	    previous_response_id: rtf.id, input: [{ type: "function_call_output",
	    call_id: fc2.call_id, output: "1" }] });
	check("responses tool output turn via chat", r4.status === "completed" &&
	    r4.output_text.length > 0, JSON.stringify(r4));
} catch (err) {
	failed++;
	console.log("not ok exception: " + (err && err.stack ? err.stack : err));
}
process.exit(failed ? 1 : 0);
