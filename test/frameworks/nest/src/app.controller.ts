import { Controller, Get, Header } from '@nestjs/common';

@Controller()
export class AppController {
  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return `<!doctype html><h1>NestJS page</h1><p>served by pid ${process.pid}</p>`;
  }

  @Get('api/pid')
  pid(): { framework: string; pid: number } {
    return { framework: 'nest', pid: process.pid };
  }

  /** Answers after 1.5 s: the request a TERM must not cut. */
  @Get('api/slow')
  async slow(): Promise<{ framework: string; pid: number; slow: boolean }> {
    await new Promise((r) => setTimeout(r, 1500));
    return { framework: 'nest', pid: process.pid, slow: true };
  }
}
