// The official @anthropic-ai/sdk package as a client of metapi.
import Anthropic from "@anthropic-ai/sdk";

const client = new Anthropic({ baseURL: process.env.BASE,
    apiKey: process.env.KEY, maxRetries: 0 });
let failed = 0;
function check(name, cond, why) {
	if (cond) console.log("ok " + name);
	else { failed++; console.log("not ok " + name + ": " + why); }
}
const model = "claude-3-5-sonnet-20241022";

try {
	const m = await client.messages.create({ model, max_tokens: 100,
	    messages: [{ role: "user", content: "hello fake relay" }] });
	check("messages", m.content[0].text === "echo: hello fake relay",
	    JSON.stringify(m));
	check("messages usage", m.usage.input_tokens === 3,
	    JSON.stringify(m.usage));

	const stream = client.messages.stream({ model, max_tokens: 100,
	    messages: [{ role: "user", content: "hello fake relay" }] });
	let text = "";
	stream.on("text", (t) => { text += t; });
	const final = await stream.finalMessage();
	check("messages stream text", text === "echo: hello fake relay", text);
	check("messages stream usage", final.usage.output_tokens === 4,
	    JSON.stringify(final.usage));

	try {
		await new Anthropic({ baseURL: process.env.BASE,
		    apiKey: "sk-wrong", maxRetries: 0 }).messages.create({
		    model, max_tokens: 10,
		    messages: [{ role: "user", content: "x" }] });
		check("wrong key is an error", false, "no error");
	} catch (err) {
		check("wrong key is a 401", err.status === 401,
		    String(err.status));
	}
} catch (err) {
	failed++;
	console.log("not ok exception: " + err);
}
process.exit(failed ? 1 : 0);
