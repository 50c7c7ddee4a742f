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
}
