// The tools the MCP conformance suite's server scenarios call by name. Test-only: registered through
// `startTestServer({ extraTools })` in the conformance test, never part of a production build.
import type { ToolDefinition, ToolResult } from '../../src/tools/tool-types.ts';
import { ToolError } from '../../src/tools/tool-types.ts';

// A 1×1 red PNG and a tiny silent WAV.
const RED_PIXEL_PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==';
const SILENT_WAV = 'UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA=';

const fixture = (name: string, description: string, run: (args: Record<string, unknown>) => ToolResult, inputSchema: Record<string, unknown> = { type: 'object', properties: {} }): ToolDefinition => ({
  name,
  description,
  inputSchema,
  scope: 'mcp:read',
  cost: 0,
  annotations: { readOnlyHint: true },
  handler: async (args) => run(args),
});

export const conformanceFixtureTools: ToolDefinition[] = [
  fixture('test_simple_text', 'Returns a simple text response.', () => ({ content: [{ type: 'text', text: 'This is a simple text response for testing.' }] })),
  fixture('test_image_content', 'Returns a 1x1 PNG.', () => ({ content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }] })),
  fixture('test_audio_content', 'Returns a tiny WAV.', () => ({ content: [{ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' }] })),
  fixture('test_embedded_resource', 'Returns an embedded resource.', () => ({
    content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }],
  })),
  fixture('test_multiple_content_types', 'Returns text, an image and a resource.', () => ({
    content: [
      { type: 'text', text: 'Multiple content types test:' },
      { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
      { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: '{"test":"data","value":123}' } },
    ],
  })),
  fixture('test_error_handling', 'Always fails.', () => {
    throw new ToolError('This tool intentionally returns an error for testing');
  }),
  fixture('json_schema_2020_12_tool', 'Tool with JSON Schema 2020-12 features', () => ({ content: [{ type: 'text', text: 'ok' }] }), {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
    properties: {
      name: { type: 'string' },
      address: { $ref: '#/$defs/address' },
      contactMethod: { type: 'string', enum: ['phone', 'email'] },
      phone: { type: 'string' },
      email: { type: 'string' },
    },
    allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
    if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
    then: { required: ['phone'] },
    else: { required: ['email'] },
    additionalProperties: false,
  }),
  // SEP-2243: arguments mirrored into Mcp-Param-* headers.
  fixture('test_custom_headers', 'Echoes arguments that are mirrored in Mcp-Param headers.', (args) => ({ content: [{ type: 'text', text: JSON.stringify(args) }] }), {
    type: 'object',
    properties: {
      region: { type: 'string', 'x-mcp-header': 'Region' },
      priority: { type: 'integer', 'x-mcp-header': 'Priority' },
      query: { type: 'string' },
    },
    required: ['region'],
  }),
];
