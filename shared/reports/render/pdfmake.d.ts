// pdfmake's Node entry, typed by what pdf.ts uses. @types/pdfmake is not imported: it pulls in the DOM
// library, whose fetch types clash with Node's across the project.
declare module 'pdfmake/js/index.js' {
  const pdfmake: {
    setLocalAccessPolicy(allow: (path: string) => boolean): void;
    setUrlAccessPolicy(allow: (url: string) => boolean): void;
    setFonts(fonts: Record<string, Record<string, string>>): void;
    createPdf(definition: object): { getBuffer(): Promise<Buffer> };
  };
  export default pdfmake;
}
