import { BadRequestException, Body, Controller, Post } from '@nestjs/common';
import { InvalidMailError } from 'nestjs-mailroom';
import { WelcomeService } from './welcome.service';

@Controller()
export class WelcomeController {
  constructor(private readonly welcomes: WelcomeService) {}

  @Post('welcome')
  async welcome(@Body() body: { email: string; name: string }): Promise<{ messageId: string; accepted: string[] }> {
    try {
      const { messageId, accepted } = await this.welcomes.welcome(body.email, body.name);
      return { messageId, accepted };
    } catch (error) {
      if (error instanceof InvalidMailError) throw new BadRequestException(error.message);
      throw error;
    }
  }
}
