/**
 * test/web/after-sitting.test.ts again, in Debian's Firefox ESR: the reception board's and the communes' PCs
 * run both browsers, and the console's pages must work in each (test/helpers/browser.ts launchBrowser).
 */
process.env.TIEPDAN_BROWSER = 'firefox';
await import('../after-sitting.test.ts');
