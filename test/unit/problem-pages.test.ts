/**
 * Every problem code has its page (what it means, what to do, an example body), and docs/problems.md is
 * that catalog as generated: a code added to errors.ts without a page, or a page edited in the doc only,
 * fails here.
 */
import { readFileSync } from 'node:fs';
import { ERROR_CODES, type ErrorCode, STATUS_TITLES } from '../../functions/core/errors.js';
import {
  exampleProblem,
  PROBLEM_PAGES,
  PROBLEMS_DOC_PATH,
  problemPageHtml,
  problemPageResponse,
  problemsMarkdown,
} from '../../functions/handlers/problem-pages.js';
import { ProblemSchema } from '../../schemas/api.js';

const codes = Object.keys(ERROR_CODES) as ErrorCode[];

describe('problem pages', () => {
  it('docs/problems.md is generated from the catalog (run `npm run openapi` after changing it)', () => {
    expect(readFileSync(PROBLEMS_DOC_PATH, 'utf8')).toBe(problemsMarkdown());
  });

  it('exist for every code of the taxonomy, and for nothing else', () => {
    expect(Object.keys(PROBLEM_PAGES).sort()).toEqual([...codes].sort());
  });

  it.each(codes)(
    'of %s say what it means and what to do, with an example body the API would send',
    (code) => {
      const page = PROBLEM_PAGES[code];
      expect(page.means.length).toBeGreaterThan(10);
      expect(page.action.length).toBeGreaterThan(10);
      const example = exampleProblem(code);
      const { status } = ERROR_CODES[code];
      expect(ProblemSchema.parse(example)).toMatchObject({
        type: `/problems/${code}`,
        title: STATUS_TITLES[status],
        status,
        code,
      });
      const doc = readFileSync(PROBLEMS_DOC_PATH, 'utf8');
      expect(doc).toContain(`\n## ${code}\n**${status} ${STATUS_TITLES[status]}**`);
      const html = problemPageHtml(code) ?? '';
      expect(html).toContain(`<h1>${code}</h1>`);
      expect(html).toContain(`${status} ${STATUS_TITLES[status]}`);
    },
  );

  it('are served at their type only, and not for a code that is not in the catalog', () => {
    expect(problemPageResponse('/problems/no_qr')).toMatchObject({
      statusCode: 200,
      headers: { 'Content-Type': 'text/html; charset=utf-8' },
    });
    expect(problemPageResponse('/problems/not_a_code')).toBeUndefined();
    expect(problemPageResponse('/problems/toString')).toBeUndefined();
    expect(problemPageResponse('/v1/problems/no_qr')).toBeUndefined();
  });
});
